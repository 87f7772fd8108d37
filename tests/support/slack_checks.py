"""What every message the bot sends to Slack must satisfy, checked on what the real client sent.

Written independently of delivery/notifiers/slack_message.py (the builder under test): it reads the mrkdwn
the way Slack does, and reports each string that breaks a rule of ../shared/SLACK.md §2 and §4:

* no control, format (bidi, zero-width, tag) or other invisible character (line breaks aside);
* no `<` or `>` outside a well-formed token the bot builds (`<http(s)://target|label>`, `<!here>`, and
  `<!date^UNIX^{date_short_pretty} {time}|YYYY-MM-DD HH:MM UTC>` whose fallback is that very time), and
  no `&` that does not start `&amp;`, `&lt;` or `&gt;`;
* a link target of URL characters only, and the real host of that target right beside the label;
* every text within Slack's limits, after escaping.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import yarl

from tests.support.slack_fake import MAX_UPDATE_TEXT, validate_blocks

# Invisible characters that are not in a control or format category (Unicode's default-ignorables).
INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")
# Visible characters that draw nothing (a run of them pushes the real host out of view).
BLANK = frozenset("\u2800")
BIDI_AND_ZERO_WIDTH = (
    "\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068"
    "\u2069\ufeff\U000e0001\U000e0041"
)
TOKEN = re.compile(r"<([^<>]*)>")
LINK = re.compile(r"(https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+)\|([^<>]+)")
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
DATE = re.compile(r"!date\^(\d+)\^\{date_short_pretty\} \{time\}\|(\d{4}-\d\d-\d\d \d\d:\d\d UTC)")
SECTION_LIMIT = 3000  # mrkdwn text objects (section text, context elements)
TOTAL_BLOCK_TEXT = 12_000  # msg_blocks_too_long was seen at ~13,200 (SLACK.md §2.1)


def real_host(url: str) -> str:
    """The host aiohttp connects to for `url`, in ASCII, as the bot shows it (without `www.`)."""
    host = (yarl.URL(url).raw_host or "").lower()
    host = f"[{host}]" if ":" in host else host
    return host.removeprefix("www.")


def text_problems(text: str, *, allow_here: bool = False, hosts: set[str] | None = None) -> list[str]:
    """Every rule `text` (one mrkdwn string as sent) breaks; `hosts`: the real hosts links may point to."""
    problems = [f"invisible or control character {c!r}" for c in sorted(set(text)) if _invisible(c)]
    if ENTITY.search(text):
        problems.append(f"unescaped & at {ENTITY.search(text)!r}")
    for match in TOKEN.finditer(text):
        inner = match.group(1)
        if inner == "!here" and allow_here:
            continue
        date = DATE.fullmatch(inner)
        if date is not None:
            shown = datetime.fromtimestamp(int(date.group(1)), UTC).strftime("%Y-%m-%d %H:%M UTC")
            if shown != date.group(2):
                problems.append(f"date token whose fallback {date.group(2)!r} is not its time {shown!r}")
            continue
        link = LINK.fullmatch(inner)
        if link is None:
            problems.append(f"token we did not build: {match.group(0)[:80]!r}")
            continue
        problems += _link_problems(text, match, link.group(1), hosts)
    rest = TOKEN.sub("", text)
    if "<" in rest or ">" in rest:
        problems.append("a < or > outside a complete token (a cut or unescaped link?)")
    return problems


def _link_problems(text: str, match: re.Match[str], target: str, hosts: set[str] | None) -> list[str]:
    try:
        host = real_host(html.unescape(target))
    except ValueError:
        return [f"unreadable link target {target[:80]!r}"]
    after = text[match.end() :].removeprefix("*")
    problems = []
    if not after.startswith(f" ({host})"):
        problems.append(
            f"link to {host} without its host beside it: {text[match.start() : match.end() + 40]!r}"
        )
    if hosts is not None and host not in hosts:
        problems.append(f"link to {host}, not one of the real hosts {sorted(hosts)}")
    return problems


def _invisible(char: str) -> bool:
    if char == "\n":
        return False
    category = unicodedata.category(char)
    return (
        category in ("Cc", "Cf", "Cs", "Zl", "Zp")
        or char in INVISIBLE
        or char in BLANK
        or 0xE0000 <= ord(char) <= 0xE007F
    )


def mrkdwn_texts(blocks: list[dict[str, Any]] | None) -> Iterator[str]:
    """Every text object's text in the blocks."""
    for block in blocks or []:
        if isinstance(block.get("text"), dict):
            yield block["text"]["text"]
        for element in block.get("elements") or []:
            if isinstance(element, dict) and "text" in element:
                yield element["text"]


def message_problems(
    text: str | None,
    blocks: list[dict[str, Any]] | None,
    *,
    allow_here: bool = False,
    hosts: set[str] | None = None,
) -> list[str]:
    """Every rule one message (its top-level text and blocks, as sent) breaks."""
    problems = []
    if text is not None:
        problems += [f"text: {p}" for p in text_problems(text, allow_here=allow_here, hosts=hosts)]
        if len(text) > MAX_UPDATE_TEXT:
            problems.append(
                f"text of {len(text)} characters (chat.update refuses more than {MAX_UPDATE_TEXT})"
            )
    if blocks:
        problems += validate_blocks(blocks)
        texts = list(mrkdwn_texts(blocks))
        for index, block_text in enumerate(texts):
            problems += [
                f"block text {index}: {p}"
                for p in text_problems(block_text, allow_here=allow_here, hosts=hosts)
            ]
        if sum(map(len, texts)) > TOTAL_BLOCK_TEXT:
            problems.append(f"blocks hold {sum(map(len, texts))} characters in all")
    return problems


def request_problems(request: dict[str, Any], **options: Any) -> list[str]:
    """Every rule a recorded chat.postMessage / chat.update request breaks, its arguments included."""
    body = request["body"] or {}
    problems = message_problems(body.get("text"), body.get("blocks"), **options)
    if body.get("parse") != "none":
        problems.append(f"{request['method']} sent parse={body.get('parse')!r}, not 'none'")
    for flag in ("link_names", "unfurl_links", "unfurl_media"):
        if body.get(flag) is not False:
            problems.append(f"{request['method']} sent {flag}={body.get(flag)!r}, not false")
    return problems
