"""Feedback from the buttons on alerts turned into watchlist edits: `tune`'s precision per watchlist, the
edits that would have removed the alerts judged not relevant, and each edit's backtest on stored articles.

    alerted.py        the period's alerts per watchlist, with the verdict on each
    backtest.py       an edit (with its stable id), and its backtest: the match stage run again
    suggest.py        the suggested edits (exclude, min_mentions, case_sensitive), ranked
    suggest_query.py  the suggested `query:` edits: the terms NEAR/n each other, a term in the title:

May import stages (the match stage re-runs for a backtest), storage, config and the foundations; imported
by cli only. Never imports stories or sources, which sit beside it.
"""
