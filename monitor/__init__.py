"""news-monitor: RSS/Atom feeds -> full articles -> watchlist matches -> Slack alerts.

The tree is the architecture. Each folder owns one capability; its `__init__` says what it holds.

    cli/         the commands, one module per group; the only place errors become exit codes
    service/     the running service: scheduler, fleet membership, ops endpoints (/healthz, /metrics)
    pipeline/    the stage order: a feed's cycle and an item's stages
    feedback/    the buttons' feedback per watchlist: precision, suggested edits and their backtests
    stories/     the story desk: copy, same story, and what that posts; decisions in publication order
    sources/     items from beyond a configured feed URL: feed discovery, news search providers
    stages/      poll, fetch, extract, match, dedupe, neardup, stories, summarise: one entry point each
    delivery/    the outbox sender, the Slack and console notifiers, digests
    storage/     one interface; the SQL implementation for SQLite and PostgreSQL, split by entity
    config/      the validated configuration, its JSON Schema, live reload, round-trip YAML edits
    query/       the watchlist query language
    http/        the shared HTTP client with its address guard, robots.txt, room for pages in memory
    data/        the word-rarity table
    text/ redact/ models.py errors.py logs.py address_policy.py metrics.py libxml.py
                 the foundations every part may use: text normalising and sentences, the one masking
                 of secrets, the records passed between stages, the exception tree, log lines

Imports run one way, down this list: a part imports only the parts below it (feedback, stories and
sources, side by side, never import each other, nor do stages and delivery, nor two stages), and no
module imports itself through others. tests/test_layout.py holds the tree to it.
"""

__version__ = "0.1.0"
