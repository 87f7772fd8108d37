"""The `news-monitor` command: parsing, one module per command group, and the only place that turns errors
into exit codes and messages.

    main.py          the parser built from the groups, global options, dispatch, errors -> exit codes
                     (`news-monitor = monitor.cli.main:main`)
    service.py       run, once: the service, or one full cycle
    check.py         check: the configuration; check_*.py its --online part (feeds, Slack)
    status.py        status: feeds and outbox, from the store
    review.py        preview, backfill: the watchlists against stored articles
    stories.py       stories: which articles were joined into one, and why
    digest.py        digest: what a digest watchlist would get now; --send sends it
    watch.py         watch list|add|remove: the watchlists, edited in place
    schema.py        schema: JSON Schemas of the configuration, for editors
    inspect.py       extract, match: one page through the stages
    admin.py         migrate, retry: the store's schema and copying an old store in; failed alerts again
    output.py        echo, echo_json and the exit codes every command uses
    arguments.py     what command modules share when adding their commands (--since's duration type)

Each command module has `add_commands(commands)` (admin: one per command) adding its subparsers, with
`handler=cmd_<name>`, and its handlers. May import every other part of the package; nothing imports the
commands.
"""
