"""The softphone page (/phone) and the call console (/console), as one router the server mounts."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from voiceagent.storage.call_log import call_by_sid, outcomes, recent_calls
from voiceagent.web.access import COOKIE_MAX_AGE_SECS, COOKIE_NAME, ConsoleAccess, Grant, same_origin
from voiceagent.web.events import call_events, server_sent_events
from voiceagent.web.recording import recording_response, recordings_available
from voiceagent.web.views import BROWSER_CALL_PREFIX, detail, summarize

HERE = Path(__file__).parent
STATIC_FILES = {path.name: path for path in (HERE / "static").iterdir() if path.is_file()}
MEDIA_TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
BROWSER_CALLER = "browser"  # the caller "number" of softphone calls (their per-number limit is shared)
PAGE_CALL_TTL_SECS = 3600.0  # how long the page that started a call may follow its events
# The pages load nothing from elsewhere and are never framed (a framed softphone could be clicked into a call).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _seconds(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f} s"


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["seconds"] = _seconds


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def web_router(state, media_path: str) -> APIRouter:
    """Routes over the app's state (server.AppState: settings, gate, runtime, live calls); the softphone streams
    to `media_path`, the phone calls' media WebSocket."""
    settings = state.settings
    token = settings.console_token.get_secret_value() if settings.console_token else None
    access = ConsoleAccess(token)
    page_calls: dict[str, float] = {}  # call ids this server's softphone started -> until when they may be followed
    router = APIRouter(include_in_schema=False)

    def grant(request: Request, kind: str) -> Grant:
        peer = request.client.host if request.client else None
        check = access.console if kind == "console" else access.phone
        return check(peer, request.headers, request.query_params, request.cookies)

    def unauthorized(request: Request) -> Response:
        reason = ("Send the console token (Authorization: Bearer, or ?token= once)." if token else
                  "CONSOLE_TOKEN is not set: the console and the phone page are open on localhost only.")
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"error": "unauthorized", "message": reason}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return templates.TemplateResponse(request, "unauthorized.html", {"business": settings.business_name,
                                                                         "reason": reason}, status_code=401,
                                          headers={"WWW-Authenticate": "Bearer"})

    def with_cookie(request: Request, response: Response) -> Response:
        secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
        response.set_cookie(COOKIE_NAME, access.cookie_value(), max_age=int(COOKIE_MAX_AGE_SECS), httponly=True,
                            samesite="strict", secure=secure, path="/")
        return response

    def page(request: Request, kind: str, render) -> Response:
        granted = grant(request, kind)
        if granted is Grant.NONE:
            return unauthorized(request)
        if granted is Grant.TOKEN_IN_QUERY:
            # The token leaves the address bar (and the history) at once: the cookie carries it from now on.
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            return with_cookie(request, RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303))
        response = render()
        response.headers.update(PAGE_HEADERS)
        return response

    def database():
        return state.runtime.database if state.runtime is not None else None

    @router.get("/web/static/{name}")
    async def static_file(name: str):
        path = STATIC_FILES.get(name)
        if path is None:
            return Response("not found", status_code=404)
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix), headers={"Cache-Control": "no-cache"})

    # -- the softphone ------------------------------------------------------------------------------------

    @router.get("/phone")
    async def phone_page(request: Request):
        return page(request, "phone", lambda: templates.TemplateResponse(
            request, "phone.html", {"business": settings.business_name}))

    @router.post("/phone/call")
    async def place_call(request: Request):
        """Start a call as Twilio's signed webhook does: the same stream token, limits and call slot."""
        if grant(request, "phone") is Grant.NONE:
            return unauthorized(request)
        if not same_origin(request.headers):
            return JSONResponse({"error": "cross_origin", "message": "Calls start from this server's page."}, 403)
        if state.runtime is None:
            return JSONResponse({"error": "starting", "message": "The agent is still starting."}, 503)
        call_sid = f"{BROWSER_CALL_PREFIX}{uuid.uuid4().hex}"
        answer = await state.gate.answer_call(call_sid, BROWSER_CALLER)
        if not isinstance(answer, str):  # a Refusal: busy, draining, over the per-number limit
            status = 429 if answer.reason == "number_limit" else 503
            return JSONResponse({"error": answer.reason, "message": answer.line or answer.message}, status)
        now = time.monotonic()
        for old in [sid for sid, until in page_calls.items() if until < now]:
            del page_calls[old]
        page_calls[call_sid] = now + PAGE_CALL_TTL_SECS
        return JSONResponse({"call_sid": call_sid, "stream_path": media_path,
                             "parameters": {"token": answer}, "events_path": f"/phone/events/{call_sid}"})

    @router.get("/phone/events/{call_sid}")
    async def phone_events(request: Request, call_sid: str):
        """The call's live transcript and latencies: for the page that started it, or any console user."""
        may_follow = page_calls.get(call_sid, 0) > time.monotonic() and grant(request, "phone") is not Grant.NONE
        if not may_follow and grant(request, "console") is Grant.NONE:
            return unauthorized(request)
        return StreamingResponse(server_sent_events(call_events(state.live, call_sid)), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # -- the console --------------------------------------------------------------------------------------

    @router.get("/console")
    async def console(request: Request, outcome: str | None = None):
        def render() -> Response:
            db = database()
            if db is None:
                return Response("The agent is still starting.", status_code=503)
            filters = {"outcome": outcome or None, "since": request.query_params.get("from") or None,
                       "until": request.query_params.get("to") or None, "error": None}
            try:
                since, until = _day(filters["since"]), _day(filters["until"])
            except ValueError:
                since = until = None
                filters["error"] = "Dates are YYYY-MM-DD."
            filters["any"] = any(filters[key] for key in ("outcome", "since", "until"))
            midnight = datetime.min.time()
            rows = recent_calls(db, outcome=filters["outcome"],
                                since=datetime.combine(since, midnight) if since else None,
                                until=datetime.combine(until + timedelta(days=1), midnight) if until else None)
            return templates.TemplateResponse(request, "console.html", {
                "business": settings.business_name, "calls": [summarize(row) for row in rows],
                "outcomes": outcomes(db), "filters": filters})

        return await asyncio.to_thread(page, request, "console", render)

    @router.get("/console/calls/{call_sid}")
    async def console_call(request: Request, call_sid: str):
        def render() -> Response:
            db = database()
            row = call_by_sid(db, call_sid) if db is not None else None
            if row is None:
                return Response("No such call.", status_code=404)
            return templates.TemplateResponse(request, "call.html", {
                "business": settings.business_name, "call": detail(row),
                "recording_url": f"/console/calls/{call_sid}/recording"
                if recordings_available(settings, call_sid) else None})

        return await asyncio.to_thread(page, request, "console", render)

    @router.get("/console/calls/{call_sid}/recording")
    async def console_recording(request: Request, call_sid: str):
        if grant(request, "console") is Grant.NONE:
            return unauthorized(request)
        return await recording_response(settings, call_sid)

    return router


def browser_may_stream(websocket, settings) -> bool:
    """A media stream the softphone page opens: same origin, and a loopback visitor or one with the console token.

    Such a stream needs no Twilio signature (a browser cannot sign); it still needs its stream token.
    """
    headers = websocket.headers
    if not headers.get("origin") or not same_origin(headers):
        return False
    token = settings.console_token.get_secret_value() if settings.console_token else None
    peer = websocket.client.host if websocket.client else None
    granted = ConsoleAccess(token).phone(peer, headers, {}, websocket.cookies)
    return granted in (Grant.LOCAL, Grant.TOKEN)
