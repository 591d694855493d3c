"""The per-IP request budget in front of every route: HTTP requests and WebSocket upgrades alike."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from voiceagent.access.gate import AccessGate


class RateLimitMiddleware:
    """Answers 429 with Retry-After once a client is over RATE_LIMIT_PER_MINUTE (a WebSocket upgrade too)."""

    def __init__(self, app: ASGIApp, gate: AccessGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        retry_after = await self.gate.request_retry_after(scope)
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        response = PlainTextResponse("too many requests", status_code=429, headers={"Retry-After": str(retry_after)})
        if scope["type"] == "http" or "websocket.http.response" in scope.get("extensions", {}):
            await response(scope, receive, send)
        else:  # a server without the denial-response extension answers a close before accept with 403
            await send({"type": "websocket.close", "code": 1008, "reason": "rate limited"})
