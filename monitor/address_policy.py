"""Which addresses an untrusted link may reach: judged on the address itself, whatever its spelling.

Two questions, answered here and nowhere else:

- `is_public_address`: may we connect to this IP address? Only globally routable unicast addresses pass.
  The tables below are the IANA special-purpose registries, written out rather than taken from
  `ipaddress` alone: its labels change between Python versions and call some private-equivalent ranges
  global (6to4 `2002::/16` can carry 127.0.0.1, `fec0::/10`, `192.88.99.0/24`, `3fff::/20`).
- `host_address`: which IP address, if any, does a URL's host spell? The host must already be read the
  way the HTTP library reads it (yarl folds `１２７。0。0。1` or `①②⑦.0.0.1` to `127.0.0.1` by IDNA/UTS-46),
  and legacy numeric forms the OS resolver accepts (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`) count
  as the address they denote, as the WHATWG URL standard reads them.

The HTTP client (monitor/http/) also checks every address at the moment a socket connects, so an
unforeseen spelling still meets `is_public_address` on the address actually connected to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[str], bool]

# IANA IPv4 Special-Purpose Address Registry, plus multicast and the old class E: nothing here is a web
# server a news feed can legitimately link to.
_IPV4_NOT_PUBLIC = tuple(
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast: forwards into whatever 6to4 network it is handed
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)

# Global unicast IPv6 is 2000::/3; everything outside it (loopback, ULA fc00::/7, link-local fe80::/10,
# site-local fec0::/10, multicast, IPv4-compatible ::/96, ...) is refused, except the two forms that carry
# an IPv4 address, which are judged by that address.
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_IPV6_NOT_PUBLIC = tuple(
    ipaddress.IPv6Network(network)
    for network in (
        "2001::/23",  # IETF protocol assignments: Teredo 2001::/32 tunnels to any IPv4, ORCHID, benchmarking
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4: 2002:7f00:1:: is 127.0.0.1, and 2002:<our IPv4>:: is our own site
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


def is_public_address(address: str | IPAddress) -> bool:
    """True for a globally routable unicast address; False for everything an SSRF would aim at.

    Accepts an IPv6 zone id (`fe80::1%eth0`). Anything that is not an IP address is not public.
    """
    try:
        ip = _as_address(address)
    except ValueError:
        return False
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return _is_public_ipv4(embedded)
    if isinstance(ip, ipaddress.IPv4Address):
        return _is_public_ipv4(ip)
    if ip not in _IPV6_GLOBAL_UNICAST or any(ip in network for network in _IPV6_NOT_PUBLIC):
        return False
    return _ipaddress_calls_it_global(ip)


def _as_address(address: str | IPAddress) -> IPAddress:
    if isinstance(address, str):
        return ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    return address


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address reaches."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def _is_public_ipv4(ip: ipaddress.IPv4Address) -> bool:
    if any(ip in network for network in _IPV4_NOT_PUBLIC):
        return False
    return _ipaddress_calls_it_global(ip)


def _ipaddress_calls_it_global(ip: IPAddress) -> bool:
    """The standard library's opinion, as a second vote: refusing is decided by either table."""
    special = ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local or ip.is_private
    return ip.is_global and not special and not ip.is_unspecified


def host_address(host: str) -> IPAddress | None:
    """The IP address a URL host spells, or None for a DNS name.

    `host` is the host as the HTTP library reads it (yarl's `URL.raw_host`, already IDNA/UTS-46 folded).
    A host ending in a number is an IPv4 address in some spelling (no top-level domain is numeric):
    each part decimal, octal (leading 0) or hex (0x), one to four parts, trailing dots ignored, as the
    WHATWG URL standard and the C library's inet_aton read it. ValueError when such a host is no valid
    address at all (`1.2.3.4.5`, `256.0.0.1`, `08.0.0.1`): it can be neither an address nor a name.
    """
    host = host.lower()
    if ":" in host:  # only IPv6 literals carry colons in a host
        return ipaddress.IPv6Address(host.strip("[]").split("%", 1)[0])
    parts = host.rstrip(".").split(".")
    if not _is_ipv4_number(parts[-1]):
        return None
    return ipaddress.IPv4Address(_ipv4_from_parts(parts))


def _is_ipv4_number(part: str) -> bool:
    try:
        _ipv4_number(part)
    except ValueError:
        return bool(part) and part.isascii() and part.isdigit()  # "08" ends in a number, a bad one
    return True


def _ipv4_number(part: str) -> int:
    """One dotted part: 0x1f is hex, 017 is octal, 17 decimal (WHATWG "IPv4 number parser")."""
    if not part or not part.isascii():
        raise ValueError(f"not a number: {part!r}")
    if part.startswith(("0x", "0X")):
        digits, base = part[2:], 16
        if not digits:
            return 0
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits.isalnum():  # int() would also take "_", "+" and spaces
        raise ValueError(f"not a number: {part!r}")
    return int(digits, base)


def _ipv4_from_parts(parts: list[str]) -> int:
    """a.b.c.d, a.b.(16 bits), a.(24 bits) or (32 bits), as inet_aton combines them."""
    if len(parts) > 4:
        raise ValueError("an IPv4 address has at most four parts")
    numbers = [_ipv4_number(part) for part in parts]
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        raise ValueError("an IPv4 part is out of range")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return value


def is_loopback(host: str | None) -> bool:
    """`localhost`, 127.0.0.0/8, ::1 or an IPv4-mapped loopback (a trailing dot, letter case and an IPv6
    zone id aside); "0.0.0.0", "::", any other name or address are not."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback
