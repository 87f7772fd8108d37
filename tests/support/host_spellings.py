"""Hypothesis strategies: one IP address written in the many ways a URL's host can spell it.

Every spelling here is read back as the same address by the HTTP stack: yarl (aiohttp's URL parser)
folds look-alike characters by IDNA/UTS-46 (full-width, mathematical, circled, superscript and subscript
digits; ideographic and full-width dots), and the C library's inet_aton, like the WHATWG URL standard,
reads each dotted part as decimal, octal (leading 0) or hex (0x), in one to four parts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from hypothesis import strategies as st

# Ways to write one decimal digit that UTS-46 maps back to it.
_DIGIT_FORMS: tuple[Callable[[int], str], ...] = (
    str,
    lambda d: chr(0xFF10 + d),  # full-width ０-９
    lambda d: chr(0x1D7CE + d),  # mathematical bold 𝟎-𝟗
    lambda d: chr(0x1D7D8 + d),  # mathematical double-struck 𝟘-𝟡
    lambda d: chr(0x1D7E2 + d),  # mathematical sans-serif
    lambda d: chr(0x1D7F6 + d),  # mathematical monospace
    lambda d: "⓪" if d == 0 else chr(0x2460 + d - 1),  # circled ⓪①-⑨
    lambda d: "⁰¹²³⁴⁵⁶⁷⁸⁹"[d],  # superscript
    lambda d: chr(0x2080 + d),  # subscript
)
# Full stop look-alikes that UTS-46 maps to ".": ideographic, full-width, half-width ideographic,
# small full stop, one-dot leader.
DOTS = (".", "。", "．", "｡", "﹒", "․")


def _letter_forms(letter: str) -> list[str]:
    lower, upper = letter.lower(), letter.upper()
    return [lower, upper, chr(ord(lower) - ord("a") + 0xFF41), chr(ord(upper) - ord("A") + 0xFF21)]


def look_alike(char: str) -> st.SearchStrategy[str]:
    """`char` (an ASCII digit or letter) or one of the characters yarl folds into it."""
    if char.isdigit():
        return st.sampled_from([form(int(char)) for form in _DIGIT_FORMS])
    if char.isalpha():
        return st.sampled_from(_letter_forms(char))
    return st.just(char)


@st.composite
def respelled(draw: st.DrawFn, text: str) -> str:
    """`text` with each digit and letter independently replaced by a look-alike."""
    return "".join(draw(look_alike(char)) for char in text)


@st.composite
def ipv4_number(draw: st.DrawFn, number: int) -> str:
    """One dotted part: decimal, octal with leading zeros, or hex (0x/0X) with leading zeros."""
    radix = draw(st.sampled_from(["decimal", "octal", "hex"]))
    zeros = "0" * draw(st.integers(0, 2))
    if radix == "decimal":
        text = str(number)
    elif radix == "octal":
        text = "0" + zeros + format(number, "o")
    else:
        text = draw(st.sampled_from(["0x", "0X"])) + zeros + format(number, "x")
    return draw(respelled(text))


@st.composite
def ipv4_spellings(draw: st.DrawFn, address: ipaddress.IPv4Address) -> str:
    """A host spelling `address`: 1 to 4 parts, each in any radix and look-alike digits, any dots."""
    count = draw(st.integers(1, 4))
    octets = address.packed
    numbers = [*octets[: count - 1], int.from_bytes(octets[count - 1 :], "big")]
    host = draw(ipv4_number(numbers[0]))
    for number in numbers[1:]:
        host += draw(st.sampled_from(DOTS)) + draw(ipv4_number(number))
    return host + draw(st.sampled_from(["", ".", "。"]))


@st.composite
def ipv6_spellings(draw: st.DrawFn, address: ipaddress.IPv6Address) -> str:
    """A bracketed host spelling `address`: compressed, exploded or with a dotted IPv4 tail, any case,
    look-alike hex digits, an optional zone id."""
    form = draw(st.sampled_from(["compressed", "exploded", "dotted tail"]))
    if form == "compressed":
        text = address.compressed
    elif form == "exploded":
        text = address.exploded
    else:
        hextets = address.exploded.split(":")[:6]
        text = ":".join(hextets) + ":" + str(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
    text = draw(respelled(text))
    # yarl refuses a "%" in a host that has non-ASCII characters, so zone ids go with ASCII spellings.
    zone = draw(st.sampled_from(["", "%25lo", "%25eth0", "%251"])) if text.isascii() else ""
    return "[" + text + zone + "]"


def ip_spellings(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> st.SearchStrategy[str]:
    if isinstance(address, ipaddress.IPv4Address):
        return ipv4_spellings(address)
    return ipv6_spellings(address)
