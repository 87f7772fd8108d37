"""Feedback from the buttons on alerts turned into watchlist edits: `tune`'s precision per watchlist, the
edits that would have removed the alerts judged not relevant, and each edit's backtest on stored articles.

    alerted.py   the period's alerts per watchlist, with the latest verdict on each
    suggest.py   the suggested edits (exclude, min_mentions, case_sensitive), each backtested

May import stages (the match stage re-runs for a backtest), storage, config and the foundations; imported
by cli only. Never imports stories or sources, which sit beside it.
"""
