"""The FastAPI app: Twilio's voice webhook, the media WebSocket, health and metrics."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from loguru import logger
from prometheus_client import CONTENT_TYPE_LATEST

from voiceagent.call.session import run_call
from voiceagent.config import Settings
from voiceagent.observability.metrics import CallMetrics
from voiceagent.runtime import AgentRuntime
from voiceagent.shared.redact import redact_phone
from voiceagent.telephony.signature import SignatureChecker, public_url
from voiceagent.telephony.twiml import connect_stream_twiml

MEDIA_PATH = "/ws/media"
# How uvicorn serves the app. Media Stream messages are 20 ms of base64 audio each way: per-message deflate
# would compress and decompress 100 of them a second per call on the event loop to save a little bandwidth.
UVICORN_OPTIONS = {"log_level": "warning", "ws_max_size": 1 << 20, "ws_per_message_deflate": False}


@dataclass
class AppState:
    """What the routes share: settings, the runtime once loaded, metrics, running calls."""

    settings: Settings
    metrics: CallMetrics
    signatures: SignatureChecker
    runtime: AgentRuntime | None = None
    load_error: str | None = None
    calls: set[asyncio.Task] = field(default_factory=set)


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
    state = AppState(settings=settings, metrics=CallMetrics(), signatures=SignatureChecker(auth_token), runtime=runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not state.signatures.enabled:
            logger.warning("TWILIO_AUTH_TOKEN is not set: Twilio signature validation is OFF")
        if state.runtime is None:
            try:
                state.runtime = await asyncio.to_thread(AgentRuntime.load, settings)
            except Exception as error:
                state.load_error = f"{type(error).__name__}: {error}"
                logger.exception("Start-up failed: the agent cannot take calls")
        yield
        # A call whose line has just closed is still writing its record: let it finish (bounded), then cancel.
        if state.calls:
            logger.info(f"Shutting down: waiting up to {settings.shutdown_grace_secs:.0f} s for "
                        f"{len(state.calls)} call(s) to finish")
            await asyncio.wait(list(state.calls), timeout=settings.shutdown_grace_secs)
        for task in list(state.calls):
            task.cancel()

    app = FastAPI(title="voiceagent", lifespan=lifespan)
    app.state.agent = state

    @app.get("/health")
    async def health():
        if state.runtime is None:
            status = "failed" if state.load_error else "loading"
            return JSONResponse({"status": status, "error": state.load_error}, status_code=503)
        return {
            "status": "ok",
            "stack": settings.stack_summary(),
            "active_calls": len(state.calls),
            "signature_validation": state.signatures.enabled,
        }

    @app.get("/metrics")
    async def metrics():
        return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/webhook/voice")
    async def voice_webhook(request: Request):
        form = await request.form()
        params = {key: str(value) for key, value in form.items()}
        scheme, host = _external_base(request.headers, request.url.scheme, settings)
        signed_url = public_url(scheme, host, request.url.path, request.url.query)
        if not state.signatures.valid(signed_url, params, request.headers.get("x-twilio-signature")):
            state.metrics.rejected_requests.labels(reason="signature").inc()
            logger.warning(f"Rejected /webhook/voice: bad or missing X-Twilio-Signature (url {signed_url})")
            return PlainTextResponse("invalid signature", status_code=403)
        stream_scheme = "wss" if scheme in ("https", "wss") else "ws"
        twiml = connect_stream_twiml(
            f"{stream_scheme}://{host}{MEDIA_PATH}",
            {"caller": params.get("From", ""), "callSid": params.get("CallSid", "")},
        )
        logger.info(f"Incoming call from {redact_phone(params.get('From'))}")
        return Response(twiml, media_type="application/xml")

    @app.websocket(MEDIA_PATH)
    async def media_stream(websocket: WebSocket):
        scheme, host = _external_base(websocket.headers, websocket.url.scheme, settings)
        ws_scheme = {"https": "wss", "http": "ws"}.get(scheme, scheme)
        signed_url = public_url(ws_scheme, host, websocket.url.path, websocket.url.query)
        if not state.signatures.valid_websocket(signed_url, websocket.headers.get("x-twilio-signature")):
            state.metrics.rejected_requests.labels(reason="signature").inc()
            logger.warning("Rejected media stream: bad or missing X-Twilio-Signature")
            await websocket.close(code=1008, reason="invalid signature")
            return
        await websocket.accept()
        if state.runtime is None:
            await websocket.close(code=1013, reason="agent is still starting, try again")
            return
        task = asyncio.current_task()
        state.calls.add(task)
        try:
            await run_call(websocket, state.runtime, state.metrics)
        finally:
            state.calls.discard(task)

    return app
