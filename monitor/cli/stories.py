"""`news-monitor stories`: recent stories, which articles were joined into one, and why."""

from __future__ import annotations

import argparse

from ..config import load_config
from ..pipeline.feed_cycle import utcnow
from ..storage import open_storage
from ..stories.report import build_stories, render_stories
from .arguments import Commands, duration_arg
from .output import EXIT_OK, echo, echo_json


def cmd_stories(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    storage = open_storage(config.storage_url)
    since = utcnow() - args.since
    try:
        stories = build_stories(storage.stories_since(since), include_all=args.all)
    finally:
        storage.close()
    if args.json:
        echo_json(stories)
    else:
        echo(render_stories(stories, since))
    return EXIT_OK


def add_commands(commands: Commands) -> None:
    stories = commands.add_parser(
        "stories", help="recent stories: which articles were joined into one, and why"
    )
    stories.add_argument("--since", type=duration_arg, default="3d", help="how far back (default: 3d)")
    stories.add_argument(
        "--all", action="store_true", help="also stories of one article that matched no watchlist"
    )
    stories.add_argument("--json", action="store_true", help="print JSON instead of text")
    stories.set_defaults(handler=cmd_stories)
