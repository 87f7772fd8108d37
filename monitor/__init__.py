"""news-monitor: RSS/Atom feeds -> full articles -> watchlist matches -> Slack alerts."""

__version__ = "0.1.0"
