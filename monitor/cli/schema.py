"""`news-monitor schema`: write (or --check) the JSON Schemas of monitor.yaml and watchlists.yaml."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config.schema import stale_schema_files, write_schema_files
from .arguments import Commands
from .output import EXIT_FAILURE, EXIT_OK, echo


def cmd_schema(args: argparse.Namespace) -> int:
    folder = args.output or args.config.parent
    if args.check:
        stale = stale_schema_files(folder)
        if stale:
            names = ", ".join(str(path) for path in stale)
            echo(
                f"news-monitor: schema: missing or out of date: {names}; run `news-monitor schema`",
                err=True,
            )
            return EXIT_FAILURE
        echo(f"{folder}: the schemas are up to date")
        return EXIT_OK
    for path in write_schema_files(folder):
        echo(f"wrote {path}")
    return EXIT_OK


def add_commands(commands: Commands) -> None:
    schema = commands.add_parser(
        "schema",
        help="write JSON Schemas of monitor.yaml and watchlists.yaml, for editors",
        description="Write monitor.schema.json and watchlists.schema.json, generated from the models that "
        "validate the configuration. Editors that read `# yaml-language-server: $schema=...` (VS Code's "
        "YAML extension, JetBrains IDEs) then complete keys and flag mistakes while you type.",
    )
    schema.add_argument(
        "--output", type=Path, metavar="DIR", help="where to write them (default: the folder of --config)"
    )
    schema.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files in DIR are missing or out of date",
    )
    schema.set_defaults(handler=cmd_schema)
