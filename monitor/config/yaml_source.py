"""Reading YAML with its line numbers, and validating it so that every error names file, line and key.

ruamel.yaml keeps each node's position; pydantic reports where in the data an error is (`loc`). Walking
the one with the other gives `monitor.yaml:12: feeds[0].interval: ...`.
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from ..errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path, key: str | None = None) -> Any:
    where = f" (named by `{key}:` in monitor.yaml)" if key else ""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"file not found{where}", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file{where}: {exc}", path=str(path)) from None
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(f"invalid YAML: {exc.problem}", path=str(path), line=line) from None
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of keys at the top of the file", path=str(path), line=1)
    return data


def validate(model: type[M], data: Any, path: Path, raw_for_lines: Any = None) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines_from = raw_for_lines if raw_for_lines is not None else data
        problems = [_problem_from(error, model, lines_from, path) for error in exc.errors()]
        first = problems[0]
        raise ConfigError(
            first.reason, path=first.path, line=first.line, key=first.key, problems=problems
        ) from None


def _problem_from(error: Any, model: type[BaseModel], raw: Any, path: Path) -> ConfigError:
    loc = _drop_union_branches(error["loc"])
    if error["type"] == "extra_forbidden":
        reason = _unknown_key_reason(model, loc)
    elif error["type"] == "missing":
        reason = "this key is required"
    else:
        reason = error["msg"].removeprefix("Value error, ")
    return ConfigError(reason, path=str(path), line=_line_of(raw, loc), key=_key_path(loc))


def _drop_union_branches(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic names the union branch it tried ("str", "list[...]", "function-before[...]");
    # users never wrote those.
    return tuple(part for part in loc if isinstance(part, int) or not re.search(r"[\[\]()]|^str$", part))


def _unknown_key_reason(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    unknown = str(loc[-1])
    allowed = _allowed_keys(model, loc[:-1])
    reason = f"unknown key {unknown!r}"
    close = difflib.get_close_matches(unknown, allowed, n=1)
    if close:
        reason += f" (did you mean {close[0]!r}?)"
    if allowed:
        reason += f"; allowed keys: {', '.join(allowed)}"
    return reason


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        current = _model_inside(field.annotation) if field else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_inside(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class inside list[X], X | None, Annotated[X, ...], or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_inside(arg)
        if found is not None:
            return found
    return None


def _key_path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_of(raw: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node of `loc` that exists in the YAML (ruamel keeps positions)."""
    line = None
    node = raw
    for part in loc:
        position = _position_of(node, part)
        if position is None:
            break
        line = position + 1
        node = node[part]
    return line


def _position_of(node: Any, part: Any) -> int | None:
    lc = getattr(node, "lc", None)
    try:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            return lc.item(part)[0] if lc else None
        if isinstance(part, str) and isinstance(node, dict) and part in node:
            return lc.key(part)[0] if lc else None
    except (KeyError, IndexError, TypeError):
        return None
    return None
