"""Which address a request came from, when reverse proxies stand in front of Wholecare.

Behind a proxy, every request arrives from the proxy's address: counting sign-in failures or
token refusals per address would then lock out everyone at once, and let one person's guesses
count against all. Each proxy appends the address it received the request from to
`X-Forwarded-For`, but a client can write anything in that header before it reaches the first
proxy. So the header is read from the right, only while the hop that wrote it is one of the
proxies the deployment trusts: the first address not itself a trusted proxy is the client.
Nothing here imports Django.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxySettingError(ValueError):
    """A trusted proxy setting that is not a list of addresses or networks."""


def trusted_networks(text: str) -> tuple[Network, ...]:
    """`text`, comma-separated addresses or networks (`10.0.0.7`, `10.0.0.0/24`, `::1`), parsed.

    Raises `ProxySettingError` naming the entry that is neither.
    """
    networks = []
    for position, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ProxySettingError(
                f"entry {position} ({entry!r}) is not an IP address or network"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: tuple[Network, ...]
) -> bool:
    return any(address.version == n.version and address in n for n in trusted)


def client_address(remote_addr: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The client's address: `remote_addr` (the peer of the connection), or, when that peer is a
    trusted proxy, the rightmost `forwarded_for` address not itself a trusted proxy.

    If the chain breaks (an entry that is not an address), the last trusted hop is the answer:
    what lies to its left was written by nobody the deployment trusts.
    """
    hop = remote_addr.strip()
    peer = _address(hop)
    if peer is None or not _trusted(peer, trusted):
        return hop
    for entry in reversed(forwarded_for.split(",")):
        address = _address(entry)
        if address is None:
            return hop
        hop = str(address)
        if not _trusted(address, trusted):
            return hop
    return hop
