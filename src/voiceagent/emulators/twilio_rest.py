"""A local server speaking the Twilio REST calls we use: update a live call (transfer TwiML, hang-up)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class TwilioRestEmulator:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-token"
    ended_calls: set[str] = field(default_factory=set)
    requests: list[dict] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls/{call}.json", self._update_call)
        return app

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def _update_call(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["account"] != self.account_sid:
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        call_sid = request.match_info["call"]
        form = dict(await request.post())
        self.requests.append({"call_sid": call_sid, **form})
        if call_sid in self.ended_calls:
            return web.json_response({"code": 20404, "message": f"The requested resource {request.path} was not found",
                                      "status": 404}, status=404)
        if form.get("Status") == "completed" or "Twiml" in form:
            self.ended_calls.add(call_sid)  # a transfer ends our leg of the call too
        return web.json_response({"sid": call_sid, "account_sid": self.account_sid, "status":
                                  "completed" if form.get("Status") == "completed" else "in-progress"})
