"""XML guard: what a feed's bytes may not bring to the parser.

Entity declarations. A news feed never needs entities of its own, and the attacks on XML parsers
ride on them:
- expansion: "billion laughs" (entities nested ten deep) and the quadratic blowup (one large entity
  referenced many times) turn kilobytes into gigabytes. libexpat stops at its amplification limit,
  but feedparser then retries with its loose parser, which expands every entity whose value holds no
  `&` without any limit: a 160 kB feed with a 100 kB entity referenced 20,000 times asked for 2 GB
  and ended in MemoryError (measured with feedparser 6.0.14).
- external entities (XXE): `<!ENTITY x SYSTEM "file:///etc/passwd">` or `"http://10.0.0.1/"` read
  local files or reach the internal network when a parser resolves them.
So poll refuses a feed that declares any entity, instead of hoping every parser path ignores it.
Entities can only be declared in the DOCTYPE, which comes before the root element; the scan stops
there, so an article that quotes `<!ENTITY` in its text is no reason to refuse its feed.

The scan must read the bytes as the parsers will. feedparser decodes with the HTTP charset, the
XML declaration's encoding, the byte-order mark or the first bytes (UTF-16/32, EBCDIC), then falls
back to UTF-8, windows-1252 and ISO-8859-2; each of those readings is scanned, and a feed is
refused when any of them shows a declaration (a UTF-7 or UTF-16 feed hides `<!ENTITY` from a
scan of its raw bytes).

References to no character (`&#55357;`, half an emoji) are repaired instead: they are a CMS's
mistake, not an attack, and feedparser fails on them, losing every item of the feed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from ..errors import FeedError

# Byte-order marks as feedparser tests them (UTF-32 before UTF-16: the UTF-32 LE mark starts with
# the UTF-16 LE one).
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF8, "utf-8"),
)
# `<?xm` in the encodings an XML document without a byte-order mark is recognised by (XML 1.0, F.1).
_FIRST_BYTES = (
    (b"\x00\x00\x00\x3c", "utf-32-be"),
    (b"\x3c\x00\x00\x00", "utf-32-le"),
    (b"\x00\x3c\x00\x3f", "utf-16-be"),
    (b"\x3c\x00\x3f\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),
)
# Latin-1 reads every byte as one character, so it shows whatever an ASCII-compatible encoding
# (UTF-8, windows-1252, ISO-8859-2, Shift_JIS...) shows of the ASCII markup the scan looks for.
_ASCII_VIEW = "latin-1"
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]{1,40})""", re.I)
_XML_ENCODING = re.compile(r"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([\w.:-]{1,40})["']""", re.I)

# A first look at this many bytes finds the root element of every real feed (their prologs are an
# XML declaration, maybe a stylesheet PI and a DOCTYPE: well under 1 kB); a longer prolog is read whole.
_PROLOG_PEEK_BYTES = 64 * 1024

# An entity declaration and the entity's name. XML keywords are upper case; any case is refused all the
# same, in case some parser is lenient about it.
_ENTITY_DECLARATION = re.compile(r"<!ENTITY(?:\s+%)?\s*[^\s>\"']{0,40}", re.I)
# What ends a declaration (<!DOCTYPE, <!ELEMENT...): its `>` or the `[` of an internal subset; or what
# starts a quoted literal, skipped whole as it may hold `<`, `>` and `[`.
_DECLARATION_STOP = re.compile(r"""[>"'\[]""")
# Markup in the prolog: a comment, a PI, a declaration, or the root element's start tag. A name may
# also start with `:` or a non-ASCII letter, but feeds' roots (rss, feed, rdf:RDF) do not; reading on
# past such a tag only makes the scan stricter.
_MARKUP_START = re.compile(r"<[!?A-Za-z_]")


def refuse_entity_declarations(feed_url: str, body: bytes, content_type: str = "") -> None:
    """Raise FeedError when the feed declares XML entities; parse nothing."""
    declaration = find_entity_declaration(body, content_type)
    if declaration:
        raise FeedError(
            feed_url,
            f"refused: the feed declares XML entities ({declaration} …), which can expand to gigabytes "
            "or read local files; no news feed needs them",
        )


def find_entity_declaration(body: bytes, content_type: str = "") -> str | None:
    """The first entity declaration in the feed's prolog (e.g. `<!ENTITY lol9`), or None if there is none."""
    for prolog in prolog_readings(body, content_type):
        declaration = _ENTITY_DECLARATION.search(prolog)
        if declaration:
            return "".join(ch for ch in " ".join(declaration.group().split()) if ch.isprintable())
    return None


def prolog_readings(body: bytes, content_type: str) -> Iterator[str]:
    """The prolog (all before the root element) as each way a parser might decode the body shows it."""
    encodings = candidate_encodings(body, content_type)
    for data in _with_and_without_byte_order_mark(body):
        for encoding in encodings:
            prolog = read_prolog(data, encoding)
            if prolog is not None:
                yield prolog
    # UTF-16 and UTF-32 put NUL bytes between ASCII characters: without them the markup reads as
    # ASCII, whatever byte order or alignment a parser guessed.
    yield read_prolog(body.replace(b"\x00", b""), _ASCII_VIEW) or ""


def read_prolog(data: bytes, encoding: str) -> str | None:
    """The text before the root element, decoded; None for an encoding Python cannot decode text with."""
    text = _decode(data[:_PROLOG_PEEK_BYTES], encoding)
    if text is None:
        return None
    root = root_element_start(text)
    if root == len(text) and len(data) > _PROLOG_PEEK_BYTES:
        text = _decode(data, encoding) or ""
        root = root_element_start(text)
    return text[:root]


def candidate_encodings(body: bytes, content_type: str) -> list[str]:
    """Encodings a parser may pick: from the first bytes, the HTTP charset, the XML declaration, ASCII."""
    sniffed = sniff_encoding(body)
    found = [sniffed, _first_group(_CHARSET, content_type), _ASCII_VIEW]
    for view in (sniffed, _ASCII_VIEW):
        start = _decode(body[:1024], view) if view else None
        found.append(_first_group(_XML_ENCODING, start or ""))
    return list(dict.fromkeys(encoding for encoding in found if encoding))


def sniff_encoding(body: bytes) -> str | None:
    """The encoding a byte-order mark or the first four bytes announce (XML 1.0, appendix F.1)."""
    for marks in (_BYTE_ORDER_MARKS, _FIRST_BYTES):
        for mark, encoding in marks:
            if body.startswith(mark):
                return encoding
    return None


def root_element_start(text: str) -> int:
    """Where the root element starts, past the prolog's comments, PIs and declarations; len(text) if nowhere.

    Comments, processing instructions and quoted literals may hold `<name`, so they are skipped whole;
    an unterminated one runs to the end of the text.
    """
    markup = _MARKUP_START.search(text)
    while markup:
        position = markup.start()
        if text.startswith("<!--", position):
            end = _end_of(text, "-->", position + 4)
        elif text.startswith("<?", position):
            end = _end_of(text, "?>", position + 2)
        elif text.startswith("<!", position):
            end = declaration_end(text, position + 2)
        else:
            return position
        markup = _MARKUP_START.search(text, end)
    return len(text)


def declaration_end(text: str, start: int) -> int:
    """Where the declaration whose name starts at `start` ends: at its `>` or the `[` of its internal
    subset, past quoted literals; len(text) when it never ends.

    A scan from stop to stop, in constant memory: the regex it replaces kept a backtracking frame per
    character (~118 bytes), so one unterminated `<!` in a 10 MB feed asked for 1.3 GB.
    """
    position = start
    while (stop := _DECLARATION_STOP.search(text, position)) is not None:
        char = stop.group()
        if char in ">[":
            return stop.start()
        position = _end_of(text, char, stop.end())
    return len(text)


def _end_of(text: str, terminator: str, start: int) -> int:
    end = text.find(terminator, start)
    return len(text) if end == -1 else end + len(terminator)


def _with_and_without_byte_order_mark(body: bytes) -> Iterator[bytes]:
    # feedparser drops a byte-order mark before decoding, which shifts a UTF-16 reading of the rest.
    yield body
    for mark, _ in _BYTE_ORDER_MARKS:
        if body.startswith(mark):
            yield body[len(mark) :]
            return


def _decode(data: bytes, encoding: str) -> str | None:
    """The data decoded, bad bytes replaced; None for an encoding Python cannot decode text with."""
    try:
        return data.decode(encoding, errors="replace")
    except (LookupError, ValueError):  # unknown names, binary codecs (base64), codecs that refuse "replace"
        return None


def _first_group(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1) if found else None


# A numeric character reference that may name no character, optionally followed by a second one (the
# low half of a surrogate pair). Surrogates start at 0xD800 (55296), so references of fewer digits,
# the common ones (&#8217; &#160;), are always valid and not even looked at.
_REFERENCE = rb"&#(?:[xX]0*([0-9a-fA-F]{4,})|0*([0-9]{5,}));"
_REFERENCES = re.compile(_REFERENCE + b"(?:" + _REFERENCE + b")?")
_HIGH_SURROGATES = range(0xD800, 0xDC00)
_LOW_SURROGATES = range(0xDC00, 0xE000)
_REPLACEMENT_REFERENCE = b"&#xFFFD;"


def repair_character_references(body: bytes) -> bytes:
    """The body with references to UTF-16 surrogates and to numbers past U+10FFFF made valid.

    Some CMSs write an emoji as the two halves of its UTF-16 surrogate pair (`&#55357;&#56832;`).
    expat rejects such references and feedparser's loose parser then fails on them (UnicodeEncodeError;
    ValueError past U+10FFFF), which loses every item of the feed for one character. A pair becomes the
    character it encodes; anything else invalid becomes U+FFFD. Feeds in UTF-16/32 are left as they are.
    """
    if b"&#" not in body:
        return body
    return _REFERENCES.sub(_repair_references, body)


def _repair_references(found: re.Match[bytes]) -> bytes:
    hex_first, decimal_first, hex_second, decimal_second = found.groups()
    first_text, _, second_text = found.group().partition(b";")
    first_text += b";"
    first = _code_point(hex_first, decimal_first)
    if not second_text:
        return _valid_reference(first, first_text)
    second = _code_point(hex_second, decimal_second)
    if first in _HIGH_SURROGATES and second in _LOW_SURROGATES:
        return b"&#%d;" % (0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
    return _valid_reference(first, first_text) + _valid_reference(second, second_text)


def _code_point(hexadecimal: bytes | None, decimal: bytes | None) -> int:
    """The number a reference names; 0x110000 (too large) for one of more than eight digits."""
    digits, base = (hexadecimal, 16) if hexadecimal is not None else (decimal or b"0", 10)
    digits = digits.lstrip(b"0") or b"0"
    return int(digits, base) if len(digits) <= 8 else 0x110000


def _valid_reference(code_point: int, text: bytes) -> bytes:
    """The reference as written when it names a character, else a reference to U+FFFD."""
    if code_point > 0x10FFFF or 0xD800 <= code_point < 0xE000:
        return _REPLACEMENT_REFERENCE
    return text
