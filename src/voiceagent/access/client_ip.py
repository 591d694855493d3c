"""The client's IP: the socket peer, or what X-Forwarded-For says when that peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str | None) -> list[Network]:
    """TRUSTED_PROXIES ("10.0.0.1, 10.1.0.0/16") as networks; config.py has already rejected bad entries."""
    return [ipaddress.ip_network(item.strip(), strict=False) for item in (text or "").split(",") if item.strip()]


def _trusted(host: str, networks: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_ip(peer: str | None, forwarded_for: list[str], trusted: list[Network]) -> str:
    """Walk X-Forwarded-For from the right past trusted proxies; the first other hop is the client.

    Hops left of that one were written by the client and prove nothing, so they are never used.
    """
    host = peer or "unknown"
    if not trusted or not _trusted(host, trusted):
        return host
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
        host = hop
    return host
