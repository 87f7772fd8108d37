"""The connect-time address guard of the guarded session: its resolver and its socket factory.

Two of the three judgements of a guarded request (client.py's docstring): a DNS name by every address
it resolves to, and every socket by the address it is about to connect to.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from ..address_policy import AddressPolicy, is_public_address
from ..errors import BlockedAddressError

if TYPE_CHECKING:  # aiohttp's own dependency, which defines what a socket_factory is
    from aiohappyeyeballs import AddrInfoType, SocketFactoryType


class GuardedResolver(AbstractResolver):
    """Resolves names like the default resolver, then refuses any answer the address policy rejects."""

    def __init__(self, is_allowed: AddressPolicy = is_public_address) -> None:
        self._resolver = DefaultResolver()
        self._is_allowed = is_allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        blocked = [result["host"] for result in results if not self._is_allowed(result["host"])]
        if blocked:
            raise BlockedAddressError(host, f"refusing a non-public address {blocked[0]} for host {host}")
        return results

    async def close(self) -> None:
        await self._resolver.close()


class RefusedConnectionError(OSError):
    """What the guarded socket factory raises instead of opening a socket to a refused address."""


# The addresses the guarded socket factory refused during the current request. aiohttp wraps the
# factory's error in ClientConnectorError, and happy eyeballs merges several errors into one plain
# OSError, so the refusal is recorded here to be reported as a BlockedAddressError.
_REFUSED_CONNECTIONS: ContextVar[list[str] | None] = ContextVar("refused_connections", default=None)


def guarded_socket_factory(is_allowed: AddressPolicy) -> SocketFactoryType:
    """aiohttp's `socket_factory`: judge the address a socket is about to connect to, whatever the URL said.

    aiohttp skips the resolver for every host it reads as an IP literal, so the resolver alone cannot
    guard; every direct connection, literal or resolved, goes through this factory.
    """

    def create_socket(addr_info: AddrInfoType) -> socket.socket:
        family, kind, proto, _, sockaddr = addr_info
        address = str(sockaddr[0])
        if not is_allowed(address):
            refused = _REFUSED_CONNECTIONS.get()
            if refused is not None:
                refused.append(address)
            raise RefusedConnectionError(
                errno.EACCES, f"refusing to connect to a non-public address {address}"
            )
        return socket.socket(family=family, type=kind, proto=proto)

    return create_socket


@contextlib.contextmanager
def recording_refusals() -> Iterator[list[str]]:
    """The addresses the guarded socket factory refuses while the block runs (one request's)."""
    refused: list[str] = []
    token = _REFUSED_CONNECTIONS.set(refused)
    try:
        yield refused
    finally:
        _REFUSED_CONNECTIONS.reset(token)
