"""Feedback from the buttons on alerts turned into watchlist edits: `tune`'s precision per watchlist, the
edits that would have removed the alerts judged not relevant, and each edit's backtest on stored articles."""
