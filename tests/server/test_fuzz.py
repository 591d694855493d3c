"""Bad input over the wire: a live server survives malformed Media Streams sessions while a good call goes on beside
them, and the voice webhook answers any form with TwiML or a 4xx (never a 5xx)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import xml.etree.ElementTree as ET

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loguru import logger
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.call.helpers import spoken_by_agent
from tests.conftest import make_settings
from voiceagent.server import create_app
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import local_server, simulate_call
from voiceagent.telephony.media_stream import StreamProtocolError, parse_message, parse_start

STREAM_EXAMPLES = 60  # each may start a call pipeline (greeting and all): ~0.5 s apiece beside the good call
WEBHOOK_EXAMPLES = 200
# How the server may end a bad stream: normal, unsupported data, policy, too big, try again. Never 1011 (internal
# error) and never an abnormal close without a close frame (1006).
CLEAN_CLOSES = {1000, 1003, 1008, 1009, 1013}
NO_LIMITS = dict(rate_limit_per_minute=1_000_000, calls_per_number_per_hour=1_000_000, max_concurrent_calls=10_000)
SID = "MZ" + "0" * 32
TOKEN = "fuzz-auth-token-0123456789abcdef"
PUBLIC = "https://voice.example.test"

# -- Media Streams messages -------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _event(name, **body) -> str:
    return json.dumps({"event": name, "sequenceNumber": "1", "streamSid": SID, **body})


def _good_start(call_sid: str) -> str:
    return _event("start", start={
        "streamSid": SID, "callSid": call_sid, "accountSid": "AC" + "0" * 32, "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"caller": "+15550100"}})


START_FIELDS = st.sampled_from(["streamSid", "callSid", "accountSid", "tracks", "mediaFormat", "customParameters"])
media_formats = st.fixed_dictionaries({}, optional={"encoding": json_values | st.just("audio/x-mulaw"),
                                                    "sampleRate": json_values | st.just(8000), "channels": json_values})
broken_starts = st.builds(
    lambda start, top: _event("start", start=start, **top),
    st.dictionaries(START_FIELDS, json_values | media_formats, max_size=6) | json_values,
    st.dictionaries(st.sampled_from(["streamSid", "sequenceNumber"]), json_values, max_size=2),
)
good_media = st.binary(min_size=1, max_size=320).map(
    lambda audio: _event("media", media={"track": "inbound", "chunk": "1", "timestamp": "20",
                                         "payload": base64.b64encode(audio).decode()}))
bad_media = st.one_of(
    st.builds(lambda payload: _event("media", media={"track": "inbound", "payload": payload}),
              st.text(max_size=60) | json_values),  # bad base64, wrong types
    st.builds(lambda media: _event("media", media=media), json_values),
    st.builds(lambda track: _event("media", media={"track": track, "payload": "////"}), json_values),
    st.integers(30_000, 48_000).map(  # valid base64 of a very long frame, just under the size limit
        lambda size: _event("media", media={"track": "inbound", "payload": base64.b64encode(b"\xff" * size).decode()})),
)
dtmf_garbage = st.builds(lambda dtmf: _event("dtmf", dtmf=dtmf),
                         json_values | st.dictionaries(st.just("digit"), json_values | st.sampled_from("0123456789*#")))
marks = st.builds(lambda mark: _event("mark", mark=mark),
                  st.builds(lambda name: {"name": name}, st.text(max_size=40) | json_values) | json_values)
stops = st.builds(lambda body: _event("stop", stop=body), json_values)
unknown_events = st.builds(lambda name, body: json.dumps({"event": name, **body}),
                           json_values | st.text(max_size=40), st.dictionaries(st.text(max_size=8), json_values, max_size=3))
not_json = st.text(max_size=200) | st.binary(max_size=200)
odd_json = st.one_of(
    json_values.map(json.dumps),
    st.integers(20_000, 40_000).map(lambda depth: "[" * depth + "]" * depth),  # nested deeper than the recursion limit
    st.integers(4_400, 20_000).map(lambda digits: '{"event": "media", "n": ' + "7" * digits + "}"),  # int too long
    st.sampled_from(["x" * 70_000, "y" * (1 << 20) + "z"]),  # over the message cap; over uvicorn's frame limit
    st.binary(max_size=200).map(lambda raw: json.dumps({"event": "media"}).encode() + raw),  # binary frame
)
stream_messages = st.one_of(
    st.just(_event("connected", protocol="Call", version="1.0.0")), st.uuids().map(lambda u: _good_start(f"CA{u.hex}")),
    broken_starts, good_media, bad_media, dtmf_garbage, marks, stops, unknown_events, not_json, odd_json,
)
# Half the sessions open properly first, so what follows reaches a running call's serializer.
stream_sessions = st.builds(
    lambda opening, rest: opening + rest,
    st.one_of(st.just([]), st.uuids().map(lambda u: [_event("connected", protocol="Call", version="1.0.0"),
                                                      _good_start(f"CA{u.hex}")])),
    st.lists(stream_messages, max_size=10),
)


async def _misbehave(url: str, messages: list) -> str | None:
    """Send the messages; None when the server closed the socket cleanly or kept the stream going, else what
    went wrong."""
    try:
        async with connect(url, max_size=None, open_timeout=10, close_timeout=5) as ws:
            try:
                for message in messages:
                    await ws.send(message)
                async with asyncio.timeout(0.5):  # give the server a moment to answer or close
                    while True:
                        await ws.recv()
            except TimeoutError:
                await asyncio.wait_for(await ws.ping(), timeout=10)  # still going, and still answering
                return None
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                return None if code in CLEAN_CLOSES else f"closed with {code} ({closed.rcvd and closed.rcvd.reason})"
    except ConnectionClosed as closed:  # closed while the client closed, e.g. at the opening handshake
        code = closed.rcvd.code if closed.rcvd else None
        return None if code in CLEAN_CLOSES else f"closed with {code}"
    return None


class _ErrorLog:
    """Every ERROR logged meanwhile, by the app (loguru) or by uvicorn ('Exception in ASGI application')."""

    def __init__(self):
        self.records: list[str] = []
        self._handler = logging.Handler(level=logging.ERROR)
        self._handler.emit = lambda record: self.records.append(f"uvicorn: {record.getMessage()}")

    def __enter__(self):
        self._sink = logger.add(lambda message: self.records.append(message.record["message"]), level="ERROR")
        logging.getLogger("uvicorn.error").addHandler(self._handler)
        return self

    def __exit__(self, *exc):
        logger.remove(self._sink)
        logging.getLogger("uvicorn.error").removeHandler(self._handler)


def _sample(metrics: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", metrics, re.MULTILINE)
    assert found, series
    return float(found.group(1))


@pytest.mark.realtime
async def test_malformed_streams_never_crash_the_server_and_a_good_call_completes_beside_them(
        runtime, caller_voice, tmp_path):
    loop = asyncio.get_running_loop()
    problems: list[tuple[list, str]] = []
    good_turns = [CallerTurn(audio=caller_voice.say("Goodbye."), text="goodbye")]

    with _ErrorLog() as errors:
        async with local_server(runtime, make_settings(tmp_path, **NO_LIMITS)) as url:
            @settings(max_examples=STREAM_EXAMPLES, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
            @given(stream_sessions)
            def fuzz(messages):
                problem = asyncio.run_coroutine_threadsafe(_misbehave(url, messages), loop).result(timeout=60)
                if problem:
                    problems.append(([message[:80] for message in messages], problem))
                assert problem is None, problem

            # The good caller waits as long as it takes for the agent to hang up: beside sixty fuzzed streams (and
            # another test worker) the closing line can stall past the simulated caller's usual 2.5 s of patience.
            good, _ = await asyncio.gather(simulate_call(url, good_turns, runtime.speech_models, hang_up_after_secs=30),
                                           asyncio.to_thread(fuzz))
            base = url.replace("ws://", "http://").removesuffix("/ws/media")
            async with httpx.AsyncClient(base_url=base) as client:
                for _ in range(300):  # every bad stream's call ends and lets go of what it held
                    health = (await client.get("/health")).json()
                    if health["active_calls"] == 0:
                        break
                    await asyncio.sleep(0.1)
                metrics = (await client.get("/metrics")).text

    assert not problems, problems[:3]
    assert health == {**health, "status": "ok", "active_calls": 0}
    assert _sample(metrics, "voiceagent_active_calls") == 0
    assert _sample(metrics, 'voiceagent_errors_total{component="call"}') == 0  # no call raised
    assert _sample(metrics, 'voiceagent_rejected_requests_total{reason="protocol"}') > 0  # bad openings refused
    assert not errors.records, errors.records[:5]
    # The agent said its whole greeting and the caller heard it. The words are checked in the server's record:
    # beside sixty fuzzed streams the caller-side Whisper misheard it ("...I'm your AI" / "System. Okay.").
    said = await spoken_by_agent(runtime, good.result.call_sid)
    assert "howcanihelp" in re.sub(r"[^a-z]", "", " ".join(said).lower()), said
    assert good.greeting.strip(), good.agent_texts
    assert good.result.hung_up_by_agent and good.latencies, good.agent_texts  # answered "Goodbye." and hung up


@pytest.mark.parametrize("raw", ["[" * 30_000 + "]" * 30_000, '{"event": "media", "n": ' + "7" * 5000 + "}",
                                 b'{"event": "media"}\xff\xfe'], ids=["nested", "long-int", "not-utf8"])
def test_what_the_fuzz_found_in_messages_is_ignored(raw):
    assert parse_message(raw) is None  # these raised RecursionError or ValueError: the stream was cut with no close


@pytest.mark.parametrize("media_format", [{"sampleRate": "fast"}, {"sampleRate": 1e400}, {"sampleRate": None},
                                          {"encoding": {"é" * 100: 1}}])
def test_what_the_fuzz_found_in_a_start_is_refused_as_a_protocol_error(media_format):
    with pytest.raises(StreamProtocolError) as refused:
        parse_start({"event": "start", "start": {"streamSid": SID, "mediaFormat": media_format}})
    assert refused.value.close_code == 1003 and len(str(refused.value).encode()) <= 123  # fits a close reason


@pytest.mark.parametrize("sid", [{"a": 1}, ["CA1"], 7, ""])
def test_a_call_sid_that_is_not_text_is_dropped(sid):
    start = parse_start({"event": "start", "start": {"streamSid": SID, "callSid": sid, "accountSid": sid}})
    assert start.call_sid is None and start.account_sid is None  # a dict here crashed the call-slot lookup


# -- the voice webhook ------------------------------------------------------------------------------------------------

TWILIO_FIELDS = ["CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "Caller", "ApiVersion"]
huge_values = st.builds(lambda char, size: char * size, st.characters(), st.integers(1_000, 100_000))
form_values = st.text(max_size=40) | huge_values | st.sampled_from(["", "+15550100", "client:alice", "sip:x@y"])
forms = st.dictionaries(st.sampled_from(TWILIO_FIELDS) | st.text(min_size=1, max_size=30), form_values, max_size=8)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
webhook_requests = st.fixed_dictionaries({
    "app": st.sampled_from(["open", "signed", "forged"]),
    "form": forms,
    "raw": st.none() | st.tuples(st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                                                  "multipart/form-data; boundary=xyz", "application/json",
                                                  "text/plain"]), st.binary(max_size=400)),
    "headers": st.dictionaries(st.sampled_from(["X-Forwarded-Host", "X-Forwarded-Proto", "Host"]), header_text,
                               max_size=2),
})


async def _post(clients: dict, request: dict) -> httpx.Response:
    client = clients[request["app"]]
    headers = dict(request["headers"])
    if request["raw"] is not None:
        content_type, body = request["raw"]
        return await client.post("/webhook/voice", content=body, headers={**headers, "Content-Type": content_type})
    form = request["form"]
    if request["app"] != "open":
        key = TOKEN if request["app"] == "signed" else "another-account-token"
        headers["X-Twilio-Signature"] = RequestValidator(key).compute_signature(f"{PUBLIC}/webhook/voice", form)
    return await client.post("/webhook/voice", data=form, headers=headers)


async def test_any_webhook_form_gets_twiml_or_a_4xx_never_a_5xx(runtime, tmp_path):
    apps = {"open": create_app(make_settings(tmp_path, **NO_LIMITS), runtime=runtime),
            "signed": create_app(make_settings(tmp_path, twilio_auth_token=TOKEN, public_url=PUBLIC, **NO_LIMITS),
                                 runtime=runtime)}
    apps["forged"] = apps["signed"]
    loop = asyncio.get_running_loop()
    statuses: list[int] = []
    async with apps["open"].router.lifespan_context(apps["open"]), \
            apps["signed"].router.lifespan_context(apps["signed"]):
        clients = {name: httpx.AsyncClient(transport=httpx.ASGITransport(app, raise_app_exceptions=False),
                                           base_url="http://agent.test") for name, app in apps.items()}

        @settings(max_examples=WEBHOOK_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(webhook_requests)
        def fuzz(request):
            response = asyncio.run_coroutine_threadsafe(_post(clients, request), loop).result(timeout=30)
            statuses.append(response.status_code)
            assert response.status_code < 500, (response.status_code, response.text[:200])
            if response.status_code < 300:
                root = ET.fromstring(response.text)  # TwiML: a stream to connect, or a line to say and hang up
                assert root.tag == "Response" and (root.find("./Connect/Stream") is not None
                                                   or root.find("Hangup") is not None), response.text[:300]
            else:
                assert 400 <= response.status_code < 500
            if request["app"] != "open" and (request["app"] == "forged" or request["raw"] is not None):
                assert response.status_code in (400, 403)  # never answered (400: a body the form parser refuses)

        try:
            await asyncio.to_thread(fuzz)
        finally:
            for client in clients.values():
                await client.aclose()
    assert 200 in statuses and 403 in statuses  # both the answered and the refused paths were reached
