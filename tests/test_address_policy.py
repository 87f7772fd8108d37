"""The address policy: which addresses are public, and which address a URL's host spells."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from monitor.address_policy import host_address, is_public_address
from tests.support.host_spellings import ip_spellings

# Ranges no link from a feed may reach. Each one is checked over generated addresses, not one example.
NOT_PUBLIC = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local, cloud metadata
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",  # 6to4 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/96",  # unspecified, loopback, IPv4-compatible
    "64:ff9b:1::/48",  # local-use NAT64
    "100::/64",  # discard
    "2001::/32",  # Teredo
    "2001:db8::/32",
    "2002::/16",  # 6to4: 2002:7f00:1:: is 127.0.0.1
    "3fff::/20",  # documentation
    "5f00::/16",  # SRv6 SIDs
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",  # site-local
    "ff00::/8",
]

PRIVATE_IPV4 = [
    ipaddress.IPv4Network(net)
    for net in NOT_PUBLIC
    if isinstance(ipaddress.ip_network(net), ipaddress.IPv4Network)
]


def addresses_in(network: str) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    net = ipaddress.ip_network(network)
    address_type = type(net.network_address)  # ip_address(1) would be an IPv4 address, even in ::/96
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(address_type)


private_ipv4 = st.sampled_from([str(net) for net in PRIVATE_IPV4]).flatmap(addresses_in)
any_ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@pytest.mark.parametrize("network", NOT_PUBLIC)
@given(data=st.data())
def test_no_address_of_a_non_public_range_is_public(network: str, data: st.DataObject) -> None:
    address = data.draw(addresses_in(network))
    assert not is_public_address(str(address))


@given(any_ipv4)
def test_ipv4_mapped_and_nat64_addresses_are_judged_by_the_ipv4_address_they_reach(
    ip: ipaddress.IPv4Address,
) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    nat64 = ipaddress.IPv6Address(f"64:ff9b::{ip}")
    assert is_public_address(str(mapped)) == is_public_address(str(nat64)) == is_public_address(str(ip))


@given(private_ipv4)
def test_no_tunnel_form_of_a_private_ipv4_address_is_public(ip: ipaddress.IPv4Address) -> None:
    embedded = int(ip)
    for tunnelled in (
        ipaddress.IPv6Address((0x2002 << 112) | (embedded << 80) | 1),  # 6to4
        ipaddress.IPv6Address((0x2001_0000 << 96) | (embedded ^ 0xFFFF_FFFF)),  # Teredo (client, obfuscated)
        ipaddress.IPv6Address(f"::ffff:{ip}"),
        ipaddress.IPv6Address(f"64:ff9b::{ip}"),
        ipaddress.IPv6Address(f"::{ip}"),  # IPv4-compatible (deprecated)
    ):
        assert not is_public_address(str(tunnelled)), tunnelled


@given(st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address))
def test_ipv6_outside_global_unicast_is_never_public_unless_it_carries_ipv4(
    ip: ipaddress.IPv6Address,
) -> None:
    carries_ipv4 = ip.ipv4_mapped is not None or ip in ipaddress.IPv6Network("64:ff9b::/96")
    if ip not in ipaddress.IPv6Network("2000::/3") and not carries_ipv4:
        assert not is_public_address(str(ip))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.216.34",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "2a00:1450:4001:82b::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_ordinary_public_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize("text", ["", "example.com", "127.1", "::1::", "999.1.1.1", "fe80::1%"])
def test_what_is_not_an_ip_address_is_not_public(text: str) -> None:
    assert not is_public_address(text)


any_ip = st.one_of(any_ipv4, st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address))


@settings(max_examples=500)
@given(any_ip.flatmap(lambda ip: st.tuples(st.just(ip), ip_spellings(ip))))
def test_every_spelling_of_an_address_reads_as_that_address(
    case: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, str],
) -> None:
    ip, spelling = case
    host = URL(f"http://{spelling}:8080/a").raw_host
    assert host is not None
    assert host_address(host) == ip


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("１２７.0.0.1", "127.0.0.1"),
        ("127。0。0。1", "127.0.0.1"),
        ("127．0．0．1", "127.0.0.1"),
        ("①②⑦.0.0.1", "127.0.0.1"),
        ("127.0.0.１", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x", "0.0.0.0"),
        ("127.0.0.1.", "127.0.0.1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[::ｆｆｆｆ:127.0.0.1]", "::ffff:7f00:1"),  # yarl keeps this one uncompressed and unbracketed
        ("[::1]", "::1"),
        ("[fe80::1%25eth0]", "fe80::1"),
    ],
)
def test_host_spellings_from_the_review(host: str, address: str) -> None:
    raw_host = URL(f"http://{host}/").raw_host
    assert raw_host is not None
    assert host_address(raw_host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host", ["example.com", "localhost", "localhost.", "127.0.0.1.nip.io", "0x7g.com", "v1.x"]
)
def test_names_are_names(host: str) -> None:
    assert host_address(host) is None


@pytest.mark.parametrize(
    "host", ["1.2.3.4.5", "256.0.0.1", "08.0.0.1", "1..1", "4294967296", "xn--27-34w.0.0.1"]
)
def test_a_host_ending_in_a_number_that_is_no_address_is_an_error(host: str) -> None:
    with pytest.raises(ValueError):
        host_address(host)
