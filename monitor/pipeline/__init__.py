"""The pipeline: the one place where the stage order is written, a feed's cycle (feed_cycle.py) and an
item's stages (item_stages.py), and what it needs to run them concurrently and fairly.

    feed_cycle.py    a feed's cycle, in order: poll, each new item, record the poll (Pipeline)
    item_stages.py   an item's stages, in order: new? recent? read, match, story desk, record (ItemStages)
    page_reading.py  an item's page fetched and extracted, or the feed's summary in its place
    alerts.py        an article's alerts, one per channel its matches route to
    held_items.py    new items held in the store while read, for another instance to take over
    search_cycle.py  news search rounds, their hits taken through an item's stages as leads
    poll_records.py  recording a poll's outcome and when to poll next (feed_schedule.py)
    gates.py         a concurrency limit shared round-robin by feed
    stored_text.py   how much of an article's text the store keeps

May import stages, stories, delivery, storage, config, http and the foundations; imported by service and
cli only.
"""
