"""The client IP behind proxies, and settings that name proxies or Redis wrongly stop start-up with a clear line."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings
from voiceagent.access.client_ip import client_ip, parse_networks
from voiceagent.config import InvalidSettings, load_settings

TRUSTED = parse_networks("10.0.0.0/8, 2001:db8::/32, 192.0.2.1")


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("198.51.100.4", ["203.0.113.9"], "198.51.100.4"),  # an untrusted peer: its header is ignored
    ("10.1.1.1", ["203.0.113.9"], "203.0.113.9"),  # one trusted proxy
    ("10.1.1.1", ["6.6.6.6, 203.0.113.9, 10.2.2.2"], "203.0.113.9"),  # two proxies; the client wrote 6.6.6.6
    ("10.1.1.1", ["6.6.6.6", "203.0.113.9"], "203.0.113.9"),  # the header repeated: read as one list
    ("192.0.2.1", [], "192.0.2.1"),  # a trusted peer without the header is the client
    ("10.1.1.1", ["10.2.2.2"], "10.2.2.2"),  # every hop trusted: the left-most one
    ("2001:db8::5", ["2001:db8::7, 2a00::1"], "2a00::1"),  # IPv6
    (None, ["203.0.113.9"], "unknown"),
])
def test_x_forwarded_for_is_read_from_the_right_past_trusted_proxies_only(peer, forwarded, expected):
    assert client_ip(peer, forwarded, TRUSTED) == expected


def test_without_trusted_proxies_the_socket_peer_is_the_client():
    assert client_ip("10.1.1.1", ["203.0.113.9"], parse_networks(None)) == "10.1.1.1"


@pytest.mark.parametrize("variable, value, message", [
    ("TRUSTED_PROXIES", "10.0.0.1, proxy.internal", "'proxy.internal' is not an IP address or CIDR network"),
    ("REDIS_URL", "localhost:6379", "must start with redis://, rediss:// or unix://"),
    ("MAX_CONCURRENT_CALLS", "0", "greater than or equal to 1"),
])
def test_a_bad_security_or_limit_setting_stops_start_up_naming_it(monkeypatch, tmp_path, variable, value, message):
    monkeypatch.setenv(variable, value)
    monkeypatch.chdir(tmp_path)  # no .env
    with pytest.raises(InvalidSettings) as stopped:
        load_settings()
    assert variable in str(stopped.value) and message in str(stopped.value)


def test_trusted_proxies_accept_addresses_and_networks(tmp_path):
    settings = make_settings(tmp_path, trusted_proxies="127.0.0.1, 10.0.0.0/8, ::1")
    assert [str(n) for n in parse_networks(settings.trusted_proxies)] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
