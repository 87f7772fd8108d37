"""News search for each watchlist (issue 16 §3): providers asked with the watchlists' terms; their hits
are leads, handed to the pipeline as feed items, so an article alerts only when it matches itself.

    terms.py        a watchlist's searchable phrases (terms and aliases), common to every provider
    gdelt.py        GDELT DOC 2.0: its query rules, its request and its answers read into feed items
    google_news.py  Google News RSS search (opt-in: its feed's terms): queries, edition, items by guid
    bing_news.py    Bing News RSS: one request per term, the publisher URL from apiclick's url=
    rss_answer.py   the two RSS answers read as hostile bytes (xml_guard, lxml without entities)
    providers.py    a provider by its name in search.providers, each watchlist's plan for it
    politeness.py   pacing between requests, backoff after a failed round, the circuit breaker
    rounds.py       a provider's round: taken in the store, each watchlist's queries, counted, recorded

Research behind the rules and numbers: ../shared/research/news-sources.md §1-§4.
"""
