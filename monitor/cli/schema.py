"""`news-monitor schema`: write (or --check) the JSON Schemas of monitor.yaml and watchlists.yaml."""

from __future__ import annotations

import argparse

from ..config.schema import stale_schema_files, write_schema_files
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
