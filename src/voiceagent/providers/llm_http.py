"""The LLM vendors' shared HTTP connections: one kept-alive client per event loop and endpoint, warmed at call start."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable

import httpx2
from pipecat.frames.frames import StartFrame

# One HTTP client per event loop and LLM endpoint, shared by every call of the process: its connections stay
# open between turns and between calls (httpx would drop an idle one after 5 s, and a phone turn is longer),
# so a request does not pay a new TCP + TLS handshake. Keyed by loop: a client must not cross event loops.
_LLM_HTTP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, object]] = weakref.WeakKeyDictionary()

LLM_KEEPALIVE_SECS = 60.0  # idle LLM connections are kept this long (servers keep theirs 60-120 s)


def shared_llm_client(key: tuple, http_class: type[httpx2.AsyncClient], build: Callable[[httpx2.AsyncClient], object]
                       ) -> tuple[object, httpx2.AsyncClient]:
    """(SDK client, its HTTP client) for this loop and endpoint, built on first use. The HTTP client is the
    SDK's own default (TCP keep-alive probes, timeouts) with a longer idle limit."""
    clients = _LLM_HTTP.setdefault(asyncio.get_running_loop(), {})
    if key not in clients:
        http = http_class(limits=httpx2.Limits(
            max_connections=1000, max_keepalive_connections=100, keepalive_expiry=LLM_KEEPALIVE_SECS))
        clients[key] = (build(http), http)
    return clients[key]


async def warm_connection(http: httpx2.AsyncClient, url: str) -> None:
    """Open (or refresh) a connection to the LLM endpoint while the caller listens to the greeting, so the
    first answer does not wait for a handshake. Any answer will do; failures are left to the real request."""
    try:
        await http.head(url, timeout=3.0)
    except httpx2.HTTPError:
        pass


class WarmsItsConnection:
    """For an LLM service on a shared SDK client: warms the connection to `self._warm_url` (through the SDK's HTTP
    client `self._http`) when the call starts."""

    _http: httpx2.AsyncClient
    _warm_url: str

    async def start(self, frame: StartFrame):
        await super().start(frame)
        self.create_task(warm_connection(self._http, self._warm_url), name="llm-warm-connection")
