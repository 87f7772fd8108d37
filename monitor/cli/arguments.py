"""What the command modules share when they add their commands: the subparsers' type, argument types."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TypeAlias

from ..config import parse_duration

# What `add_subparsers()` returns: each command module adds its commands to it (a string: argparse's
# class is generic only to type checkers).
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def duration_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
