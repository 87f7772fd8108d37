"""Delivery: getting alerts, replies and digests to people, from the outbox, never twice on purpose.

    outbox.py        the sender loop: due entries claimed, routed and sent one at a time
    pacing.py        posts to one channel `pace` apart, across instances; a channel paused for Slack's 429
    sending.py       one entry sent by its kind (alert, story reply and its alert's update, digest), and
                     what became of it stored: sent, retried later, or failed
    retry_policy.py  how long a transient failure waits (Retry-After, backoff), which errors block a token
                     or a channel
    rerouting.py     an entry goes where its watchlists route now
    slack_health.py  Slack up, or down since when and why
    digest.py        one message per schedule for `delivery: digest` watchlists
    interactions.py  presses of an alert's buttons: checked against the store, recorded once, answered
    slack_socket.py  Socket Mode (slack-sdk's aiohttp client): each envelope acknowledged, then handled
    notifiers/       Slack (and its one message builder) and the console

May import storage, config, http and the foundations; never stages or stories.
"""
