"""The stages an item goes through, each a module with a verb-first entry point; the pipeline calls them
in order and passes records (monitor/models.py) between them.

    poll.py        poll_feed: a conditional GET of a feed, parsed into FeedItems
                   (feed_parse.py, feed_parse_fast.py, feed_parse_reference.py, parsed_feed.py, xml_guard.py)
    dedupe.py      item_keys, article_keys: what an item or article is known by (GUID, URL, text)
    fetch.py       fetch_page: an article page, through the address guard and robots.txt
    extract.py     extract_article: main text and metadata
                   (extract_checks.py, boilerplate.py, byline.py, page_metadata.py)
    match.py       match_article: the watchlists an article matches, with terms and sentences
    neardup.py     sign_text: a MinHash signature, to find near-copies in the story window
    stories.py     profile_article, best_story: which story an article reports
    summarise.py   summarise_article: two to four sentences

A stage does not import another (its own helper modules, listed beside it, are part of it). Stages may
import storage, config, query, http and the foundations.
"""
