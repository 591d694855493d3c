"""The FastAPI app: Twilio's voice webhook, the media WebSocket, health and metrics."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from loguru import logger
from prometheus_client import CONTENT_TYPE_LATEST

from voiceagent.access.gate import AccessGate, Refusal
from voiceagent.access.middleware import RateLimitMiddleware
from voiceagent.call.session import receive_start, run_call
from voiceagent.config import Settings
from voiceagent.observability.live import LiveCalls
from voiceagent.observability.metrics import CallMetrics
from voiceagent.runtime import AgentRuntime
from voiceagent.shared.redact import redact_phone
from voiceagent.storage.retention import purge_periodically
from voiceagent.telephony.signature import SignatureChecker, public_url
from voiceagent.telephony.twiml import connect_stream_twiml, say_and_hang_up_twiml
from voiceagent.web import browser_may_stream, web_router

MEDIA_PATH = "/ws/media"
# How uvicorn serves the app. Media Stream messages are 20 ms of base64 audio each way: per-message deflate
# would compress and decompress 100 of them a second per call on the event loop to save a little bandwidth.
# uvicorn's own X-Forwarded-For handling (it trusts 127.0.0.1 by default) is off: TRUSTED_PROXIES decides alone.
UVICORN_OPTIONS = {"log_level": "warning", "ws_max_size": 1 << 20, "ws_per_message_deflate": False,
                   "proxy_headers": False}


@dataclass
class AppState:
    """What the routes share: settings, the runtime once loaded, metrics, running calls."""

    settings: Settings
    metrics: CallMetrics
    signatures: SignatureChecker
    gate: AccessGate
    runtime: AgentRuntime | None = None
    load_error: str | None = None
    calls: set[asyncio.Task] = field(default_factory=set)
    live: LiveCalls = field(default_factory=LiveCalls)  # running calls' records, for the softphone's event stream


def _external_base(request_headers, scheme: str, settings: Settings) -> tuple[str, str]:
    """(scheme, host) as Twilio sees us: configured public URL, else the proxy headers, else Host."""
    if settings.public_url:
        scheme_part, _, host = settings.public_url.partition("://")
        return scheme_part, host.rstrip("/")
    forwarded_proto = request_headers.get("x-forwarded-proto")
    forwarded_host = request_headers.get("x-forwarded-host")
    host = (forwarded_host or request_headers.get("host") or "localhost").split(",")[0].strip()
    return (forwarded_proto or scheme).split(",")[0].strip(), host


def create_app(settings: Settings | None = None, runtime: AgentRuntime | None = None) -> FastAPI:
    """Build the app; models load in the background at start-up unless a runtime is given."""
    settings = settings or Settings()
    auth_token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    metrics = CallMetrics()
    state = AppState(settings=settings, metrics=metrics, signatures=SignatureChecker(auth_token),
                     gate=AccessGate(settings, metrics), runtime=runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await state.gate.start()
        if state.runtime is None:
            try:
                state.runtime = await asyncio.to_thread(AgentRuntime.load, settings)
            except Exception as error:
                state.load_error = type(error).__name__
                logger.exception("Start-up failed: the agent cannot take calls")
        # Retention (docs/privacy.md): what ended more than RETENTION_DAYS ago goes at start-up, then every interval.
        retention = state.runtime and asyncio.create_task(purge_periodically(
            state.runtime.database, settings.retention_days, settings.retention_interval_secs, settings.data_dir))
        yield
        if retention:
            retention.cancel()
        # Without a drain before (uvicorn closed the calls' sockets), a call whose line has just closed is still
        # writing its record: it gets the grace to finish. After a drain the grace has been spent already.
        if state.calls and not state.gate.drain.finished.is_set():
            logger.info(f"Shutting down: waiting up to {settings.shutdown_grace_secs:.0f} s for "
                        f"{len(state.calls)} call(s) to finish")
            await asyncio.wait(list(state.calls), timeout=settings.shutdown_grace_secs)
        for task in list(state.calls):
            task.cancel()
        await state.gate.stop()

    app = FastAPI(title="voiceagent", lifespan=lifespan)
    app.state.agent = state
    app.add_middleware(RateLimitMiddleware, gate=state.gate)
    app.include_router(web_router(state, MEDIA_PATH))  # /phone and /console (docs/browser.md)

    @app.get("/health")
    async def health():
        # The reason of a failed start-up goes to the log only: /health is public.
        if state.gate.drain.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        if state.runtime is None:
            return JSONResponse({"status": "failed" if state.load_error else "loading"}, status_code=503)
        return {
            "status": "ok",
            "stack": settings.stack_summary(),
            "active_calls": len(state.calls),
            "signature_validation": state.signatures.enabled,
        }

    @app.get("/metrics")
    async def prometheus_metrics(request: Request):
        if not state.gate.metrics_authorized(request.headers.get("authorization")):
            return PlainTextResponse("unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/webhook/voice")
    async def voice_webhook(request: Request):
        form = await request.form()
        params = {key: str(value) for key, value in form.items()}
        scheme, host = _external_base(request.headers, request.url.scheme, settings)
        signed_url = public_url(scheme, host, request.url.path, request.url.query)
        if not state.signatures.valid(signed_url, params, request.headers.get("x-twilio-signature")):
            state.gate.refuse(Refusal("signature", f"bad or missing X-Twilio-Signature (url {signed_url})"),
                              "/webhook/voice")
            return PlainTextResponse("invalid signature", status_code=403)
        answer = await state.gate.answer_call(params.get("CallSid", ""), params.get("From", ""))
        if isinstance(answer, Refusal):
            return Response(say_and_hang_up_twiml(answer.line), media_type="application/xml")
        # The caller and CallSid travel inside the signed token: the stream cannot claim others.
        stream_scheme = "wss" if scheme in ("https", "wss") else "ws"
        twiml = connect_stream_twiml(f"{stream_scheme}://{host}{MEDIA_PATH}", {"token": answer})
        logger.info(f"Incoming call from {redact_phone(params.get('From'))}")
        return Response(twiml, media_type="application/xml")

    @app.websocket(MEDIA_PATH)
    async def media_stream(websocket: WebSocket):
        scheme, host = _external_base(websocket.headers, websocket.url.scheme, settings)
        ws_scheme = {"https": "wss", "http": "ws"}.get(scheme, scheme)
        signed_url = public_url(ws_scheme, host, websocket.url.path, websocket.url.query)
        # The softphone page cannot sign its upgrade; it must be this server's page, opened on localhost or with
        # CONSOLE_TOKEN, and still needs a stream token like every call.
        if not (state.signatures.valid_websocket(signed_url, websocket.headers.get("x-twilio-signature"))
                or browser_may_stream(websocket, settings)):
            state.gate.refuse(Refusal("signature", "bad or missing X-Twilio-Signature"), "media stream")
            await websocket.close(code=1008, reason="invalid signature")
            return
        await websocket.accept()
        if state.runtime is None:
            await websocket.close(code=1013, reason="agent is still starting, try again")
            return
        start = await receive_start(websocket, state.metrics)
        if start is None:
            return
        admitted = await state.gate.admit_stream(start)
        if isinstance(admitted, Refusal):
            await websocket.close(code=admitted.close_code, reason=admitted.message[:120])
            return
        task = asyncio.current_task()
        state.calls.add(task)
        try:
            await run_call(websocket, state.runtime, state.metrics, start=admitted, closing=state.gate.drain.closing,
                           live=state.live)
        finally:
            state.calls.discard(task)
            await state.gate.release(admitted)

    return app


class DrainingServer(uvicorn.Server):
    """uvicorn, except that the first SIGTERM or SIGINT drains the calls before uvicorn's own shutdown.

    uvicorn's shutdown closes every open WebSocket at once (code 1012), which would cut calls mid-sentence; while
    draining, the server keeps answering: /health says draining, new calls hear the busy line. A second signal
    shuts down at once.
    """

    def __init__(self, config: uvicorn.Config, state: AppState) -> None:
        super().__init__(config)
        self.agent = state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task | None = None

    async def serve(self, sockets=None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig, frame) -> None:
        if self._drain is None and not self.should_exit and self._loop is not None:
            logger.info(f"Signal {sig}: draining before shutdown (a second signal shuts down at once)")
            self._loop.call_soon_threadsafe(self.begin_drain)
            return
        super().handle_exit(sig, frame)

    def begin_drain(self) -> None:
        """Drain the calls (up to DRAIN_SECS + SHUTDOWN_GRACE_SECS), then let uvicorn shut down."""
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_task(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        try:
            await self.agent.gate.drain.run(self.agent.calls)
        finally:
            self.should_exit = True


def make_server(app: FastAPI, host: str, port: int) -> DrainingServer:
    """The uvicorn server for `app`; what is left after the drain gets SHUTDOWN_GRACE_SECS, then is cancelled."""
    state: AppState = app.state.agent
    config = uvicorn.Config(app, host=host, port=port, lifespan="on",
                            timeout_graceful_shutdown=max(1, int(state.settings.shutdown_grace_secs)),
                            **UVICORN_OPTIONS)
    return DrainingServer(config, state)
