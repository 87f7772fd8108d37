"""Sources: where items come from beyond a configured feed URL, and finding feeds.

    (filled in as the parts land: feed discovery from a site, news search providers)

Items found here go through the same pipeline as any feed item. May import stages (to read what a
candidate feed holds), storage, config, http and the foundations; imported by the pipeline, service
and cli. Never imports stories or delivery.
"""
