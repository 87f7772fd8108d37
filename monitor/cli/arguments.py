"""What the command modules share: the subparsers' type, argument types, and the configuration of a
command that also works without one."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import TypeAlias

from ..config import Config, load_config, parse_duration
from ..errors import ConfigError
from .output import echo

# What `add_subparsers()` returns: each command module adds its commands to it (a string: argparse's
# class is generic only to type checkers).
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def duration_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def optional_config(path: Path, without: str) -> Config | None:
    """The config at `path` when there is a valid one; else None, said on stderr with what applies
    `without` it (a command such as `extract` or `feeds discover` works without a config)."""
    if not path.exists():
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        echo(f"news-monitor: ignoring {path} (invalid: {exc.reason}); {without}", err=True)
        return None
