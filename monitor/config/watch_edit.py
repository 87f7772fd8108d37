"""`news-monitor watch`: list, add and remove watchlist terms in the YAML file that holds them.

The file is the one `watchlists:` in monitor.yaml names, or monitor.yaml itself when the list is inline.
It is edited in round-trip mode (see yaml_edit), so everything an edit does not touch stays as written.
An edit is saved only when the whole configuration still loads with `load_config`, checked on a temporary
file next to the edited one, which then replaces it with os.replace: a reader sees the old file or the new
one, never half of one, and an invalid result is never written.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..errors import ConfigError, MonitorError
from .loading import Config, load_config
from .watchlists import WatchlistConfig
from .yaml_edit import YamlDocument, append_item, flow_list, remove_item, scalar, write_temporary


class WatchEditRefused(MonitorError):
    """The edit was not made: unknown watchlist, duplicate term, no --yes, an invalid result."""


@dataclass(frozen=True)
class NewTerm:
    text: str
    aliases: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    case_sensitive: bool = False

    def to_yaml(self) -> Any:
        """A plain string when the term has no settings, as analysts write them; otherwise a mapping."""
        if not (self.aliases or self.exclude or self.case_sensitive):
            return scalar(self.text)
        node = CommentedMap(term=scalar(self.text))
        if self.case_sensitive:
            node["case_sensitive"] = True
        if self.aliases:
            node["aliases"] = flow_list(self.aliases)
        if self.exclude:
            node["exclude"] = flow_list(self.exclude)
        return node


@dataclass(frozen=True)
class Edit:
    summary: str  # what was done, for the user
    hint_if_invalid: str = ""  # what to do instead, when the result does not validate


@dataclass
class WatchlistsFile:
    """The file holding the watchlists, loaded for editing."""

    document: YamlDocument
    config_path: Path  # --config as given

    @property
    def path(self) -> Path:
        return self.document.path

    @property
    def inline(self) -> bool:
        return self.path == self.config_path.resolve()

    @property
    def watchlists(self) -> CommentedSeq:
        seq: CommentedSeq = self.document.root["watchlists"]
        return seq


def open_watchlists(config_path: Path) -> WatchlistsFile:
    """Load the file that holds the watchlists; the configuration must be valid before it is edited."""
    config = load_config(config_path)
    return WatchlistsFile(YamlDocument.read(config.watchlists_path or config_path.resolve()), config_path)


def add_term(
    file: WatchlistsFile, watchlist: str, term: NewTerm, *, channel: str | None = None, create: bool = False
) -> Edit:
    """Append a term to a watchlist; a missing watchlist is created only when asked (create or channel)."""
    found = _find_watchlist(file, watchlist)
    if found is None:
        if not (create or channel):
            hint = "to create it, add --create (it then posts to slack.default_channel) or --channel CHANNEL"
            raise _unknown_watchlist(file, watchlist, hint)
        append_item(file.watchlists, _new_watchlist(watchlist, term, channel))
        posts_to = channel or "slack.default_channel"
        return Edit(f"created watchlist {watchlist!r} (posts to {posts_to}) with the term {term.text!r}")
    node = found[1]
    if channel is not None and node.get("channel") != channel:
        raise WatchEditRefused(
            f"watchlist {watchlist!r} exists and posts to {node.get('channel') or 'slack.default_channel'}; "
            f"--channel only sets the channel of a new watchlist (edit channel: in {file.path})"
        )
    _refuse_duplicate(file, node, term.text)
    if "terms" not in node:
        node["terms"] = CommentedSeq()
    append_item(node["terms"], term.to_yaml())
    return Edit(f"added {term.text!r} to watchlist {watchlist!r}")


def remove_term(file: WatchlistsFile, watchlist: str, term: str) -> Edit:
    """Remove one term (spelled exactly as in the file) from a watchlist."""
    _, node = require_watchlist(file, watchlist)
    terms = node.get("terms") or CommentedSeq()
    index = next((i for i, item in enumerate(terms) if term_text(item) == term), None)
    if index is None:
        raise _unknown_term(node, term)
    remove_item(terms, index, node, "terms")
    only = f"{term!r} is the only term of {watchlist!r}; remove the whole watchlist with --yes and no TERM"
    return Edit(f"removed {term!r} from watchlist {watchlist!r}", hint_if_invalid="" if terms else only)


def remove_watchlist(file: WatchlistsFile, watchlist: str, *, confirmed: bool) -> Edit:
    """Remove a whole watchlist; `confirmed` (--yes) is required, since its terms go with it."""
    index, node = require_watchlist(file, watchlist)
    count = len(node.get("terms") or ())
    if not confirmed:
        raise WatchEditRefused(
            f"this removes the whole watchlist {watchlist!r} and its {count} term(s): add --yes to confirm, "
            "or name a TERM to remove only that term"
        )
    remove_item(file.watchlists, index, file.document.root, "watchlists")
    return Edit(f"removed watchlist {watchlist!r} and its {count} term(s)")


def save_edit(file: WatchlistsFile, edit: Edit, *, dry_run: bool = False) -> str:
    """Validate the edited file as part of the whole configuration, then (unless dry_run) replace the file.

    Returns the unified diff of the change.
    """
    new = file.document.render()
    candidate = write_temporary(file.path, new)
    try:
        _validate(file, candidate, edit.hint_if_invalid)
        if not dry_run:
            if _read_or_none(file.path) != file.document.original:
                raise WatchEditRefused(f"{file.path} changed while this command ran; nothing was written")
            os.replace(candidate, file.path)
    finally:
        candidate.unlink(missing_ok=True)
    return file.document.diff(new)


def describe_watchlists(config: Config) -> list[dict[str, Any]]:
    """Every watchlist as JSON, with the channel it actually posts to."""
    return [
        {**w.model_dump(mode="json"), "effective_channel": config.channel_for(w)} for w in config.watchlists
    ]


def render_watchlists(config: Config) -> str:
    terms = sum(len(w.terms) for w in config.watchlists)
    source = config.watchlists_path or config.path
    lines = [f"{source}: {len(config.watchlists)} watchlist(s), {terms} term(s)"]
    for watchlist in config.watchlists:
        default = "" if watchlist.channel else " (slack.default_channel)"
        lines.append(f"\n{watchlist.name} -> {config.channel_for(watchlist)}{default}{_settings(watchlist)}")
        query = getattr(watchlist, "query", None)
        if query:
            lines.append(f"  query: {query}")
        lines += [f"  {_describe_term(term)}" for term in watchlist.terms]
    return "\n".join(lines)


def _settings(watchlist: WatchlistConfig) -> str:
    """The watchlist's routing settings that differ from their defaults."""
    fields = type(watchlist).model_fields
    changed = [
        f"{name}: {', '.join(value) if isinstance(value, list) else value}"
        for name in ("priority", "min_mentions", "notify", "feeds")
        if name in fields and (value := getattr(watchlist, name)) != fields[name].default
    ]
    return f"  [{'; '.join(changed)}]" if changed else ""


def _describe_term(term: Any) -> str:
    regex = getattr(term, "regex", None)  # `regex:` terms are being added to TermConfig
    details = [f"regex: {regex}"] if regex and term.term else []
    if term.case_sensitive:
        details.append("case-sensitive")
    if term.aliases:
        details.append(f"aliases: {', '.join(term.aliases)}")
    if term.exclude:
        details.append(f"exclude: {', '.join(term.exclude)}")
    label = term.term or f"regex: {regex}"
    return label + (f"  ({'; '.join(details)})" if details else "")


def _find_watchlist(file: WatchlistsFile, name: str) -> tuple[int, CommentedMap] | None:
    for index, node in enumerate(file.watchlists):
        if isinstance(node, CommentedMap) and node.get("name") == name:
            return index, node
    return None


def require_watchlist(file: WatchlistsFile, name: str) -> tuple[int, CommentedMap]:
    found = _find_watchlist(file, name)
    if found is None:
        raise _unknown_watchlist(file, name)
    return found


def _unknown_watchlist(file: WatchlistsFile, name: str, hint: str = "") -> WatchEditRefused:
    names = [str(node.get("name")) for node in file.watchlists if isinstance(node, Mapping)]
    message = f"no watchlist named {name!r} in {file.path}" + _suggestion(name, names, "watchlists")
    return WatchEditRefused(message + (f"\n  {hint}" if hint else ""))


def _unknown_term(watchlist: CommentedMap, term: str) -> WatchEditRefused:
    items = watchlist.get("terms") or ()
    message = f"watchlist {watchlist.get('name')!r} has no term {term!r}"
    owner = next((term_text(item) for item in items if term in _aliases(item)), None)
    if owner is not None:
        return WatchEditRefused(f"{message}: it is an alias of {owner!r} (aliases are edited in the file)")
    return WatchEditRefused(message + _suggestion(term, [term_text(item) for item in items], "terms"))


def _suggestion(name: str, known: list[str], kind: str) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else f" ({kind}: {', '.join(known)})"


def _refuse_duplicate(file: WatchlistsFile, watchlist: CommentedMap, text: str) -> None:
    terms = watchlist.get("terms") or CommentedSeq()
    for index, item in enumerate(terms):
        where = f"{file.path}:{_line_of(terms, index)}"
        if term_text(item) == text:
            raise WatchEditRefused(f"{text!r} is already a term of watchlist {watchlist['name']!r} ({where})")
        if text in _aliases(item):
            raise WatchEditRefused(
                f"{text!r} is already an alias of {term_text(item)!r} in watchlist {watchlist['name']!r} "
                f"({where})"
            )


def _line_of(seq: CommentedSeq, index: int) -> str:
    try:
        return str(seq.lc.item(index)[0] + 1)
    except (KeyError, IndexError, TypeError):
        return "?"


def term_text(item: Any) -> str:
    """How a term is named on the command line: its `term:`, else its `regex:`."""
    if isinstance(item, Mapping):
        return str(item.get("term") or item.get("regex") or "")
    return str(item)


def _aliases(item: Any) -> list[str]:
    return [str(alias) for alias in item.get("aliases") or ()] if isinstance(item, Mapping) else []


def _new_watchlist(name: str, term: NewTerm, channel: str | None) -> CommentedMap:
    node = CommentedMap(name=scalar(name))
    if channel:
        node["channel"] = DoubleQuotedScalarString(channel)  # "#channel" must be quoted: the README's style
    node["terms"] = CommentedSeq([term.to_yaml()])
    return node


def _validate(file: WatchlistsFile, candidate: Path, hint: str) -> None:
    """Load the whole configuration with `candidate` in place of the edited file; refuse if it is invalid."""
    names = {candidate.resolve(): str(file.config_path if file.inline else file.path)}
    monitor = candidate
    if not file.inline:
        # A copy of monitor.yaml beside it (so its relative paths still resolve) naming the candidate.
        config = YamlDocument.read(file.config_path)
        config.root["watchlists"] = str(candidate.resolve())
        monitor = write_temporary(file.config_path, config.render())
        names[monitor.resolve()] = str(file.config_path)
    try:
        load_config(monitor)
    except ConfigError as exc:
        problems = "\n".join(f"  {_renamed(problem, names)}" for problem in exc.problems)
        advice = f"\n  {hint}" if hint else ""
        raise WatchEditRefused(f"not saved: the result would be invalid:\n{problems}{advice}") from None
    finally:
        if monitor != candidate:
            monitor.unlink(missing_ok=True)


def _renamed(problem: ConfigError, names: Mapping[Path, str]) -> str:
    """The problem's `file:line: key: reason`, naming the real file instead of the temporary one."""
    path = names.get(Path(problem.path).resolve(), problem.path) if problem.path else None
    return ConfigError(problem.reason, path=path, line=problem.line, key=problem.key).location_and_reason()


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
