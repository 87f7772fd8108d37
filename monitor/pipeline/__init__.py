"""The pipeline: the one place where the stage order is written (feed_cycle.py), and what it needs to
run stages concurrently and fairly.

    feed_cycle.py    a feed's cycle and an item's stages, in order
    poll_records.py  recording a poll's outcome and when to poll next (feed_schedule.py)
    gates.py         a concurrency limit shared round-robin by feed
    stored_text.py   how much of an article's text the store keeps

May import stages, stories, delivery, storage, config, http and the foundations; imported by service and
cli only.
"""
