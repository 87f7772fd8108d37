"""Delivery: getting alerts, replies and digests to people, from the outbox, never twice on purpose.

    outbox.py        sending from the outbox: paced per channel, retried with backoff
    rerouting.py     an entry goes where its watchlists route now
    slack_health.py  Slack up, or down since when and why
    digest.py        one message per schedule for `delivery: digest` watchlists
    notifiers/       Slack (and its one message builder) and the console

May import storage, config, http and the foundations; never stages or stories.
"""
