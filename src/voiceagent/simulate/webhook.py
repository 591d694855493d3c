"""Twilio's side of answering a call: POST the signed voice webhook, read the TwiML, know where to stream."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
from twilio.request_validator import RequestValidator

MEDIA_PATH = "/ws/media"
WEBHOOK_PATH = "/webhook/voice"
ACCOUNT_SID = "AC" + "0" * 32
AGENT_NUMBER = "+15550009999"  # the number the simulated caller dials (Twilio's `To`)


class WebhookError(RuntimeError):
    """The webhook refused the request itself (bad signature, rate limit, server error): no TwiML to follow."""

    def __init__(self, status: int, text: str):
        super().__init__(f"POST {WEBHOOK_PATH} answered HTTP {status}: {text[:200]}")
        self.status = status


@dataclass
class Answer:
    """What the webhook's TwiML says: stream to `stream_url` with `parameters`, or say a line and hang up."""

    stream_url: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    said: str = ""
    hung_up: bool = False


def webhook_url(media_url: str) -> str:
    """ws://host/ws/media -> http://host/webhook/voice (wss -> https), the server's webhook next to its stream."""
    parts = urlsplit(media_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.removesuffix(MEDIA_PATH) + WEBHOOK_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def signature(url: str, params: dict[str, str], auth_token: str | None) -> dict[str, str]:
    """X-Twilio-Signature over the URL and the form parameters, as Twilio signs (none without a token)."""
    if not auth_token:
        return {}
    return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params)}


def parse_twiml(xml: str) -> Answer:
    root = ET.fromstring(xml)
    stream = root.find("./Connect/Stream")
    if stream is not None:
        return Answer(stream_url=stream.get("url"),
                      parameters={p.get("name"): p.get("value") for p in stream.findall("Parameter")})
    return Answer(said=" ".join(say.text or "" for say in root.iter("Say")), hung_up=root.find("Hangup") is not None)


async def answer_call(media_url: str, *, call_sid: str, caller_number: str, auth_token: str | None = None,
                      timeout: float = 10.0) -> Answer | None:
    """Ask the server's webhook how to answer this call; None when it has no webhook (404: stream directly)."""
    url = webhook_url(media_url)
    form = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "From": caller_number, "To": AGENT_NUMBER,
            "CallStatus": "ringing", "Direction": "inbound"}
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.post(url, data=form, headers=signature(url, form, auth_token))
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise WebhookError(response.status_code, response.text)
    return parse_twiml(response.text)
