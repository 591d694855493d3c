"""Who may use the softphone and the console: loopback visitors, or whoever holds CONSOLE_TOKEN.

The token comes as `Authorization: Bearer <token>`, as `?token=` on a first visit (answered with an HttpOnly,
SameSite=Strict cookie), or as that cookie. The cookie holds an HMAC of the token, not the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

COOKIE_NAME = "voiceagent_console"
COOKIE_MAX_AGE_SECS = 12 * 3600
# A proxy in front of the server on the same machine connects from loopback too: its requests are not local.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class Grant(Enum):
    """How a request was let in; NONE is a 401."""

    NONE = "none"
    LOCAL = "local"  # a loopback visitor of a server without CONSOLE_TOKEN (or the softphone on loopback)
    TOKEN = "token"  # bearer header or cookie
    TOKEN_IN_QUERY = "token_in_query"  # first visit with ?token=: set the cookie


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local(peer: str | None, headers: Mapping[str, str]) -> bool:
    """A visitor on this machine talking to it by a loopback name: peer and Host are loopback, nothing forwarded.

    The Host check keeps out a remote page reaching the server by DNS rebinding.
    """
    if not _loopback(peer) or any(headers.get(name) for name in FORWARDING_HEADERS):
        return False
    host = headers.get("host") or ""
    hostname = urlsplit(f"//{host}").hostname or ""
    return hostname in LOOPBACK_NAMES


def same_origin(headers: Mapping[str, str]) -> bool:
    """False when the browser says the request comes from a page of another site (cross-site POST, WebSocket)."""
    origin = headers.get("origin")
    if not origin:
        return True  # not a browser request from a page: nothing cross-site to guard against
    return urlsplit(origin).netloc == (headers.get("x-forwarded-host") or headers.get("host") or "")


@dataclass(frozen=True)
class ConsoleAccess:
    """The rule for one app; `token` is CONSOLE_TOKEN (None: loopback only)."""

    token: str | None

    def cookie_value(self) -> str:
        assert self.token is not None
        return hmac.new(self.token.encode(), b"voiceagent console cookie v1", hashlib.sha256).hexdigest()

    def _token_grant(self, headers: Mapping[str, str], query: Mapping[str, str],
                     cookies: Mapping[str, str]) -> Grant:
        if self.token is None:
            return Grant.NONE
        authorization = headers.get("authorization") or ""
        if authorization[:7].lower() == "bearer " and hmac.compare_digest(authorization[7:].strip().encode(),
                                                                          self.token.encode()):
            return Grant.TOKEN
        cookie = cookies.get(COOKIE_NAME)
        if cookie and hmac.compare_digest(cookie.encode(), self.cookie_value().encode()):
            return Grant.TOKEN
        given = query.get("token")
        if given and hmac.compare_digest(given.encode(), self.token.encode()):
            return Grant.TOKEN_IN_QUERY
        return Grant.NONE

    def console(self, peer: str | None, headers: Mapping[str, str], query: Mapping[str, str],
                cookies: Mapping[str, str]) -> Grant:
        """The console: the token when CONSOLE_TOKEN is set (on loopback too); without it, loopback only."""
        if self.token is None:
            return Grant.LOCAL if is_local(peer, headers) else Grant.NONE
        return self._token_grant(headers, query, cookies)

    def phone(self, peer: str | None, headers: Mapping[str, str], query: Mapping[str, str],
              cookies: Mapping[str, str]) -> Grant:
        """The softphone: open on loopback; elsewhere only with the token."""
        granted = self._token_grant(headers, query, cookies)
        if granted is Grant.NONE and is_local(peer, headers):
            return Grant.LOCAL
        return granted
