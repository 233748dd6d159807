"""The client's address behind reverse proxies: read X-Forwarded-For from the right, only as far
as trusted proxies wrote it, so nothing a client writes can choose the address it is counted as."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholecare.access.forwarding import ProxySettingError, client_address, trusted_networks

PROXIES = trusted_networks("10.0.0.0/24, 2001:db8::1")
CLIENT = "203.0.113.9"


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "expected", "why"),
    [
        (CLIENT, "", CLIENT, "no proxy: the connection's peer"),
        (CLIENT, "198.51.100.1", CLIENT, "an untrusted peer's header is ignored"),
        ("10.0.0.5", CLIENT, CLIENT, "one trusted proxy"),
        ("10.0.0.5", f"{CLIENT}, 10.0.0.6", CLIENT, "two trusted proxies"),
        ("10.0.0.5", f"198.51.100.1, {CLIENT}", CLIENT, "what the client wrote is left of it"),
        ("10.0.0.5", f"198.51.100.1,{CLIENT} ", CLIENT, "spaces around entries"),
        ("10.0.0.5", "", "10.0.0.5", "a trusted proxy that says nothing"),
        ("10.0.0.5", "10.0.0.6", "10.0.0.6", "only trusted hops: the furthest"),
        ("10.0.0.5", f"{CLIENT}, unknown", "10.0.0.5", "a broken chain: the last trusted hop"),
        ("2001:db8::1", "2001:db8::99", "2001:db8::99", "IPv6"),
        ("10.0.0.5", "2001:db8::1", "2001:db8::1", "a trusted hop of the other family"),
        ("not an address", CLIENT, "not an address", "a peer that is not an address"),
    ],
)
def test_client_address(remote_addr: str, forwarded_for: str, expected: str, why: str) -> None:
    assert client_address(remote_addr, forwarded_for, PROXIES) == expected, why


def test_no_trusted_proxies_means_the_peer_whatever_the_header_says() -> None:
    assert client_address("10.0.0.5", CLIENT, trusted_networks("")) == "10.0.0.5"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("10.0.0.1, proxy.example", "entry 2 ('proxy.example') is not an IP address or network"),
        ("10.0.0.0/33", "entry 1 ('10.0.0.0/33') is not an IP address or network"),
    ],
)
def test_a_bad_setting_names_the_entry(setting: str, message: str) -> None:
    with pytest.raises(ProxySettingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        trusted_networks(setting)


def test_a_host_address_with_a_mask_is_its_network() -> None:
    assert trusted_networks("10.0.0.7/24") == (ipaddress.ip_network("10.0.0.0/24"),)


untrusted = st.ip_addresses(v=4).filter(lambda a: a not in PROXIES[0])
trusted_hop = st.integers(0, 255).map(lambda i: f"10.0.0.{i}")
anything = st.one_of(
    st.ip_addresses().map(str), st.text(max_size=12).filter(lambda t: "," not in t)
)


@given(
    spoofed=st.lists(anything, max_size=4),
    client=untrusted,
    hops=st.lists(trusted_hop, max_size=3),
    peer=trusted_hop,
)
def test_what_a_client_writes_never_chooses_its_address(
    spoofed: list[str], client: ipaddress.IPv4Address, hops: list[str], peer: str
) -> None:
    header = ", ".join([*spoofed, str(client), *hops])
    assert client_address(peer, header, PROXIES) == str(client)
