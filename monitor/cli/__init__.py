"""The `news-monitor` command: parsing, one module per command group, and the only place that turns errors
into exit codes and messages.

    main.py          the parser and dispatch (`news-monitor = monitor.cli.main:main`)
    admin.py         migrate: the store's schema, and copying an old store in
    check_*.py       check --online: does what the configuration names answer (feeds, Slack)
    inspect.py       extract, match: one page through the stages
    review.py        preview, backfill: the watchlists against stored articles
    status.py        status: feeds and outbox, from the store

May import every other part of the package; nothing imports the commands.
"""
