"""Round-trip YAML editing: change a few nodes of a hand-written file and keep the rest as it was written.

ruamel.yaml's round-trip mode keeps comments, key order, quoting and flow style. Two things it does not do
on its own, done here:

- indentation is one setting per dumper, so `YamlDocument.read` picks the one that reproduces the file
  (and counts the lines it cannot, for a file that mixes styles);
- ruamel keeps the comment lines that follow a node on that node's last scalar, so appending after (or
  removing) the last item of a list would drag the next section's comments along; `append_item` and
  `remove_item` move those lines to where they belong. Comments above a removed item stay: they may be
  about more than that item, and a stray comment is cheaper than a lost one.
"""

from __future__ import annotations

import codecs
import difflib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from ..errors import MonitorError


@dataclass
class YamlDocument:
    """A YAML file loaded for editing, written back in its own layout, encoding and line endings."""

    path: Path
    original: bytes
    yaml: YAML
    root: Any
    reformatted_lines: int  # lines re-indented although no edit touches them (a file that mixes styles)

    @classmethod
    def read(cls, path: Path) -> YamlDocument:
        try:
            original = path.read_bytes()
        except OSError as exc:
            raise MonitorError(f"cannot read {path}: {exc.strerror or exc}") from None
        text = original.decode("utf-8-sig").replace("\r\n", "\n")
        yaml, reformatted_lines = _yaml_keeping_layout(text)
        return cls(path, original, yaml, yaml.load(text), reformatted_lines)

    def render(self) -> bytes:
        """The edited document as the file's bytes: UTF-8 (with its BOM if it had one), its line endings."""
        buffer = StringIO()
        self.yaml.dump(self.root, buffer)
        text = buffer.getvalue()
        if b"\r\n" in self.original:
            text = text.replace("\n", "\r\n")
        bom = codecs.BOM_UTF8 if self.original.startswith(codecs.BOM_UTF8) else b""
        return bom + text.encode("utf-8")

    def diff(self, new: bytes) -> str:
        before = self.original.decode("utf-8-sig").splitlines(keepends=True)
        after = new.decode("utf-8-sig").splitlines(keepends=True)
        return "".join(difflib.unified_diff(before, after, fromfile=str(self.path), tofile=str(self.path)))


def write_temporary(beside: Path, data: bytes) -> Path:
    """`data` in a new hidden file next to `beside` (same folder, so os.replace is atomic), with its mode."""
    try:
        fd, name = tempfile.mkstemp(dir=beside.parent, prefix=f".{beside.name}.", suffix=".tmp")
    except OSError as exc:
        raise MonitorError(f"cannot write a file in {beside.parent}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(name, beside.stat().st_mode & 0o7777)
    except OSError as exc:
        Path(name).unlink(missing_ok=True)
        raise MonitorError(f"cannot write {name}: {exc.strerror or exc}") from None
    return Path(name)


def scalar(text: str) -> str:
    """`text` as it will be written: plain when YAML reads it back unchanged (even inside [ ]), else "quoted".

    Left to itself ruamel picks single quotes, which turn People's into 'People''s'.
    """
    try:
        plain = YAML(typ="safe").load(f"[{text}]") == [text]
    except YAMLError:
        plain = False
    return text if plain else DoubleQuotedScalarString(text)


def flow_list(values: Iterable[str]) -> CommentedSeq:
    """A list written [a, b], as analysts write aliases."""
    seq = CommentedSeq(scalar(value) for value in values)
    seq.fa.set_flow_style()
    return seq


def append_item(seq: CommentedSeq, item: Any) -> None:
    """Append `item`; the comment lines after the old last item that belong to what follows move below it."""
    moved: list[str] = []
    if seq and not seq.fa.flow_style() and (column := _item_column(seq, len(seq) - 1)) is not None:
        lines = _detach_following_lines(seq, len(seq) - 1)
        # Commented-out siblings (indented at least to the dash) stay with the list; the rest moves.
        keep = 0
        while keep < len(lines) and _is_comment(lines[keep]) and _indent(lines[keep]) >= column - 2:
            keep += 1
        _attach_following_lines(seq, len(seq) - 1, lines[:keep])
        moved = lines[keep:]
    seq.append(item)
    _attach_following_lines(seq, len(seq) - 1, moved)


def remove_item(seq: CommentedSeq, index: int, parent: CommentedMap, key: str) -> None:
    """Remove seq[index] (= parent[key][index]) and its own comments; the lines after it that are not stay."""
    lines: list[str] = []
    if not seq.fa.flow_style() and (column := _item_column(seq, index)) is not None:
        lines = _detach_following_lines(seq, index)
        while lines and _is_comment(lines[0]) and _indent(lines[0]) >= column:
            lines.pop(0)  # indented under the removed item: its own
    del seq[index]
    if not seq:
        _comments_after_empty_list(seq, parent, key, lines)
    elif lines and index > 0:
        _attach_following_lines(seq, index - 1, lines)
    elif lines:
        _attach_lines_after_key(parent, key, "".join(lines))


def insert_key_after(parent: CommentedMap, after: str, key: str, value: Any) -> None:
    """Add `key: value` right below `after` and its value; the whole comment lines that followed them (about
    what comes next, e.g. the next watchlist) move below the new key."""
    current = parent[after]
    if isinstance(current, CommentedSeq) and current and not current.fa.flow_style():
        lines = _detach_following_lines(current, len(current) - 1)
    else:  # a scalar or a flow collection: ruamel keeps them after its line-end comment, on the key
        entry = parent.ca.items.get(after)
        token = entry[2] if entry else None
        lines = []
        if token is not None:
            own, *lines = token.value.splitlines(keepends=True)
            token.value = own
    parent.insert(list(parent).index(after) + 1, key, value)
    if lines:
        parent.ca.items[key] = [None, None, CommentToken("\n" + "".join(lines), CommentMark(0), None), None]


def _last_scalar(seq: CommentedSeq, index: int) -> tuple[list[Any], Any, Any]:
    """The block collections ending with seq[index] (outermost first), and its last scalar's (parent, key)."""
    chain: list[Any] = []
    parent: Any = seq
    key: Any = index
    while True:
        value = parent[key]
        if not (isinstance(value, CommentedMap | CommentedSeq) and value and not value.fa.flow_style()):
            return chain, parent, key
        chain.append(value)
        parent, key = value, (list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1)


def _detach_following_lines(seq: CommentedSeq, index: int) -> list[str]:
    """Take out the whole lines (comments, blank lines) after seq[index], but not its line-end comment.

    ruamel keeps them after that comment on the last scalar, or in the `end` comments of the block
    collections that close there.
    """
    chain, parent, key = _last_scalar(seq, index)
    lines: list[str] = []
    entry = parent.ca.items.get(key)
    token = entry[_token_slot(parent)] if entry else None
    if token is not None:
        own, *lines = token.value.splitlines(keepends=True)
        token.value = own
    for collection in reversed(chain):  # the innermost closes first
        for end in collection.ca.end or ():
            lines += _token_lines(end)
        collection.ca.end = []
    return lines


def _token_lines(token: CommentToken) -> list[str]:
    """A whole-line comment token as lines of text (ruamel keeps its first line's indent as a column)."""
    first, *rest = token.value.splitlines(keepends=True)
    return [" " * token.column + first, *rest]


def _attach_following_lines(seq: CommentedSeq, index: int, lines: list[str]) -> None:
    """Put whole lines after seq[index] and the lines already there, all on its last scalar's comment."""
    if not lines:
        return
    lines = _detach_following_lines(seq, index) + lines
    _, parent, key = _last_scalar(seq, index)
    entry = parent.ca.items.setdefault(key, [None, None, None, None])
    slot = _token_slot(parent)
    if entry[slot] is None:
        entry[slot] = CommentToken("\n" + "".join(lines), CommentMark(0), None)
    else:
        entry[slot].value += "".join(lines)


def _token_slot(container: Any) -> int:
    return 0 if isinstance(container, CommentedSeq) else 2  # where ruamel keeps a scalar's line-end comment


def _attach_lines_after_key(parent: CommentedMap, key: str, lines: str) -> None:
    """Put comment lines right below `key:`, before the first item of its (block) list."""
    entry = parent.ca.items.setdefault(key, [None, None, None, None])
    if entry[2] is not None:
        entry[2].value += lines
    elif entry[3]:
        entry[3].append(CommentToken(lines, CommentMark(0), None))
    else:
        entry[2] = CommentToken("\n" + lines, CommentMark(0), None)


def _comments_after_empty_list(seq: CommentedSeq, parent: CommentedMap, key: str, lines: list[str]) -> None:
    """An emptied list is written `key: []`; the comments above its first item go below that line."""
    seq.fa.set_flow_style()  # a block list with no items is written as neither
    entry = parent.ca.items.setdefault(key, [None, None, None, None])
    above = [line for token in entry[3] or () for line in _token_lines(token)]
    entry[3] = None
    if entry[2] is not None:
        entry[2].value += "".join(above + lines)
    elif above or lines:
        entry[2] = CommentToken("\n" + "".join(above + lines), CommentMark(0), None)
    seq.ca.comment = [entry[2], None]  # a flow list keeps its line-end comment twice, like ruamel's loader


def _item_column(seq: CommentedSeq, index: int) -> int | None:
    try:
        return int(seq.lc.item(index)[1])
    except (KeyError, IndexError, TypeError):
        return None  # a node created in this run: ruamel has no position for it


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _yaml_keeping_layout(text: str) -> tuple[YAML, int]:
    """A round-trip YAML with the indentation that reproduces `text`, or else changes the fewest lines."""
    _, guessed_sequence, guessed_offset = load_yaml_guess_indent(text)
    layouts = [(guessed_offset or 2, guessed_sequence or 2, guessed_offset or 0)]  # mapping, sequence, offset
    layouts += [(m, s, o) for m in (2, 4) for s in (2, 4, 6) for o in range(0, s - 1, 2)]
    best: tuple[YAML, int] | None = None
    for layout in layouts:
        yaml = _round_trip_yaml(*layout)
        buffer = StringIO()
        yaml.dump(yaml.load(text), buffer)
        changed = _changed_lines(text, buffer.getvalue())
        if best is None or changed < best[1]:
            best = (yaml, changed)
        if not changed:
            break
    assert best is not None
    return best


def _round_trip_yaml(mapping: int, sequence: int, offset: int) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _changed_lines(old: str, new: str) -> int:
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")
