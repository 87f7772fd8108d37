"""Notifiers: where alerts, story replies, digests and notices go, behind one protocol.

    base.py           the Notifier protocol and `Posted` (where a message landed)
    slack.py          SlackNotifier: chat.postMessage and chat.update through slack-sdk, errors sorted into
                      permanent and transient
    slack_message.py  the one builder of Slack messages (alerts, replies, updates, notices) and the entry
                      point callers import from
    slack_text.py     its primitives: Slack's limits, clean, escape, fit, a link's real host and target
    slack_pieces.py   its pieces (Markup, Text, Link, Emphasised), `render`, and SlackMessage with its blocks
    slack_digest.py   a digest's layout, from the same pieces
    console.py        ConsoleNotifier: alerts printed to standard output, for running without Slack

May import the foundations (models, errors, redact, logs, address_policy) and http; never storage, stages
or stories.
"""
