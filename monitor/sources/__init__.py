"""Sources: where items come from beyond a configured feed URL, and finding feeds.

    discovery.py        the feeds a page or site offers, read and ranked (`feeds discover`, `feeds add`)
    discovery_links.py  where they may be: the page's links, platform paths, robots.txt, common names
    feed_kind.py        what a candidate is: kind, title, item count, newest date
    search/             news search providers for each watchlist (GDELT); their hits are leads

Items found here go through the same pipeline as any feed item. May import stages (to read what a
candidate feed holds), storage, config, http and the foundations; imported by the pipeline, service
and cli. Never imports stories or delivery.
"""
