"""A local server speaking the Twilio REST calls we use: update a live call (transfer TwiML, hang-up), send a text
message (the Messages API)."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate

from aiohttp import web


@dataclass
class TwilioRestEmulator:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-token"
    ended_calls: set[str] = field(default_factory=set)
    requests: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # every text message accepted, as created
    rate_limit_next: int = 0  # answer the next N messages with 429 / 20429, as Twilio does under load

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls/{call}.json", self._update_call)
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create_message)
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

    async def _create_message(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["account"] != self.account_sid:
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        form = dict(await request.post())
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return _error(429, 20429, "Too Many Requests")
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not E164.match(to):
            return _error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not sender:
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        sid = "SM" + uuid.uuid4().hex
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        message = {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": body, "date_created": now,
            "date_sent": None, "date_updated": now, "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": sender, "messaging_service_sid": None, "num_media": "0",
            "num_segments": str(1 + (len(body) - 1) // 153 if len(body) > 160 else 1), "price": None,
            "price_unit": "USD", "sid": sid, "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"}, "to": to, "uri": f"{uri}.json",
        }
        self.messages.append(message)
        return web.json_response(message, status=201)


E164 = re.compile(r"^\+[1-9]\d{6,14}$")  # Twilio checks more (real numbering plans); the shape is enough here


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                              "status": status}, status=status)
