"""Who is asking: the client's address behind trusted reverse proxies, and the key the throttle uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

from review.config import Network

IPAddress = IPv4Address | IPv6Address


def _parse(value: str) -> IPAddress | None:
    try:
        address = ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(remote: str | None, forwarded_for: Iterable[str], proxies: Sequence[Network]) -> str:
    """The peer's address, unless the peer is a trusted proxy: then the right-most X-Forwarded-For hop
    that is not one.

    Each proxy appends the address it received the request from, so entries left of the first
    untrusted hop were written by the client and prove nothing. A hop that is not an address ends the
    walk there (the proxy before it vouched for nothing better).
    """
    peer = _parse(remote or "")
    if peer is None:
        return remote or "unknown"
    if not _trusted(peer, proxies):
        return str(peer)
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    current = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, proxies):
            break
    return str(current)


def throttle_address(address: str) -> str:
    """What failures are counted against: the address, or its /64 for IPv6 (one subscriber's share)."""
    parsed = _parse(address)
    if isinstance(parsed, IPv6Address):
        return str(IPv6Network((parsed, 64), strict=False))
    return str(parsed) if parsed is not None else address
