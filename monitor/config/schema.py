"""JSON Schemas of monitor.yaml and watchlists.yaml, generated from the pydantic models that validate them.

Editors that read a `# yaml-language-server: $schema=...` first line (VS Code's YAML extension, JetBrains
IDEs) then complete keys and flag mistakes while you type. A schema describes the files' shape;
`news-monitor check` stays the authority for what it cannot say (durations longer than zero, unique
names, known feed tags, terms with letters, valid CSS selectors).

What pydantic's own output gets wrong for these files, and is fixed here:

- durations: pydantic describes a timedelta as an ISO 8601 string ("PT10M", also its defaults); the
  files say 10m, so a duration is a string matching DURATION_PATTERN and its default is written 10m;
- a term may be a plain string (`- Alibaba`), which a before-validator turns into a TermConfig, and
  pydantic only sees the TermConfig (`_accept_plain_terms`);
- monitor.yaml's `watchlists:` and `sites:` may hold the other files' content inline, which the model
  types loosely (it is validated later, with its own line numbers); the schema inlines those files'.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from ..errors import MonitorError
from .durations import DURATION_PATTERN, duration_text
from .monitor_file import MonitorFile
from .sites import SitesFile
from .watchlists import WatchlistsFile

# DURATION_PATTERN is the syntax parse_duration reads; tests/test_schema.py checks they agree.
DIALECT = "https://json-schema.org/draft/2020-12/schema"  # what pydantic generates


class _ConfigJsonSchema(GenerateJsonSchema):
    """pydantic's generator, with durations as the files write them."""

    def timedelta_schema(self, schema: core_schema.TimedeltaSchema) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "a duration: a number and a unit, s, m, h or d; or several, largest first (1h30m)",
            "examples": ["30s", "10m", "2h", "3d", "1h30m"],
        }

    def encode_default(self, dft: Any) -> Any:
        return super().encode_default(_durations_as_text(dft))


def _durations_as_text(value: Any) -> Any:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return {key: _durations_as_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_durations_as_text(item) for item in value]
    return duration_text(value) if isinstance(value, timedelta) else value


def render_schemas() -> dict[str, str]:
    """File name -> JSON text, for monitor.yaml's and watchlists.yaml's schemas."""
    watchlists = _model_schema(WatchlistsFile)
    _accept_plain_terms(watchlists)
    monitor = _model_schema(MonitorFile)
    _inline_file(monitor, "watchlists", watchlists)
    _inline_file(monitor, "sites", _model_schema(SitesFile))
    schemas = {
        "monitor.schema.json": _document(monitor, "news-monitor: monitor.yaml"),
        "watchlists.schema.json": _document(watchlists, "news-monitor: watchlists.yaml"),
    }
    return {name: json.dumps(schema, ensure_ascii=False, indent=2) + "\n" for name, schema in schemas.items()}


def write_schema_files(folder: Path) -> list[Path]:
    """Write the schemas into `folder` (created if missing); return their paths."""
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in render_schemas().items():
            path = folder / name
            temporary = path.with_name(f".{name}.tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)
            written.append(path)
    except OSError as exc:
        raise MonitorError(f"schema: cannot write into {folder}: {exc.strerror or exc}") from None
    return written


def stale_schema_files(folder: Path) -> list[Path]:
    """The schema files in `folder` that are missing or differ from what the models generate."""
    return [folder / name for name, text in render_schemas().items() if _read(folder / name) != text]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation", schema_generator=_ConfigJsonSchema)


def _accept_plain_terms(schema: dict[str, Any]) -> None:
    """Where a list holds TermConfig, a plain string is a term too (watchlists._term_from_plain_string)."""
    term = {"$ref": "#/$defs/TermConfig"}
    plain = {"type": "string", "description": "a term with the default settings"}
    for definition in schema["$defs"].values():
        for field in definition.get("properties", {}).values():
            if field.get("items") == term:
                field["items"] = {"anyOf": [plain, term]}


def _inline_file(monitor: dict[str, Any], key: str, file_schema: dict[str, Any]) -> None:
    """monitor.yaml's `key:` names a file, or holds that file's `key:` content inline."""
    field = monitor["properties"][key]
    named = {"type": "string", "description": f"a file holding `{key}:`, relative to this file"}
    field["anyOf"] = [
        named if branch.get("type") == "string" else file_schema["properties"][key]
        if branch.get("type") in ("array", "object") else branch
        for branch in field["anyOf"]
    ]  # fmt: skip
    monitor["$defs"] = dict(sorted({**monitor["$defs"], **file_schema["$defs"]}.items()))


def _document(schema: dict[str, Any], title: str) -> dict[str, Any]:
    return {"$schema": DIALECT, **schema, "title": title}
