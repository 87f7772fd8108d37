"""What every command prints through (secrets masked, control characters blanked), and the exit codes.

Exit codes: 0 success, 1 a runtime failure (storage, network for `extract`), 2 invalid configuration or
usage, 130 interrupted, 141 the reader of the output went away (`news-monitor status | head`). Errors
become codes in main.py only; a command returns 1 itself for an outcome that is not an error (a failed
check, alerts that failed again).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ..logs import blank_controls, safe_text
from ..redact import mask_secrets

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130
# What a shell reports for a process ended by SIGPIPE (128 + 13), as `yes | head` does.
EXIT_BROKEN_PIPE = 141


def echo(text: str = "", *, err: bool = False, end: str = "\n") -> None:
    """Print what a command says, as every command's human output must be: secrets masked, control and
    bidi characters blanked (feed titles and exception messages reach the operator's terminal)."""
    print(safe_text(text), end=end, file=sys.stderr if err else sys.stdout)


def echo_json(data: Any) -> None:
    """Print `data` as JSON, each string in it masked and neutralised first (masking the JSON text
    afterwards could cut into its quotes)."""
    print(json.dumps(_safe_strings(data), ensure_ascii=False, indent=2))


def _safe_strings(data: Any) -> Any:
    if isinstance(data, str):
        # JSON escapes newlines and tabs itself; C1 controls and bidi marks it would print raw.
        return blank_controls(mask_secrets(data), keep="\n\t")
    if isinstance(data, dict):
        return {key: _safe_strings(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_safe_strings(value) for value in data]
    return data
