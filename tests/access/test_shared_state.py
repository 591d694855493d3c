"""Several instances, one budget: limits, call slots and used stream tokens in a real Redis."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.conftest import make_settings
from voiceagent.access.gate import AccessGate, Refusal
from voiceagent.access.slots import RedisCallSlots
from voiceagent.observability.metrics import CallMetrics
from voiceagent.server import create_app
from voiceagent.simulate.run import free_port
from voiceagent.telephony.media_stream import StreamStart

SECRET = "shared-stream-token-secret"


def two_instances(tmp_path, runtime, redis_url: str, **limits):
    settings = [make_settings(tmp_path / name, redis_url=redis_url, stream_token_secret=SECRET, **limits)
                for name in ("a", "b")]
    return [create_app(s, runtime=runtime) for s in settings]


def webhook(client: TestClient, call_sid: str, caller: str = "+15551234567") -> ET.Element:
    form = {"CallSid": call_sid, "AccountSid": "AC1", "From": caller, "To": "+15557654321"}
    return ET.fromstring(client.post("/webhook/voice", data=form).text)


def test_the_request_budget_is_shared_by_instances(tmp_path, runtime, redis_url):
    a, b = two_instances(tmp_path, runtime, redis_url, rate_limit_per_minute=3)
    with TestClient(a) as client_a, TestClient(b) as client_b:
        codes = [client_a.get("/health").status_code, client_b.get("/health").status_code,
                 client_a.get("/health").status_code, client_b.get("/health").status_code]
    assert codes == [200, 200, 200, 429]


def test_calls_per_number_and_concurrent_calls_are_counted_across_instances(tmp_path, runtime, redis_url):
    a, b = two_instances(tmp_path, runtime, redis_url, calls_per_number_per_hour=2, max_concurrent_calls=2)
    with TestClient(a) as client_a, TestClient(b) as client_b:
        first = webhook(client_a, "CA1")
        second = webhook(client_b, "CA2")
        busy = webhook(client_a, "CA3", caller="+15550002222")  # two calls hold both slots, whichever instance
        over = webhook(client_b, "CA4")  # the number's third call this hour
    assert first.find("./Connect/Stream") is not None and second.find("./Connect/Stream") is not None
    assert "lines are busy" in busy.find("Say").text and busy.find("Hangup") is not None
    assert "from this number" in over.find("Say").text


def test_a_token_minted_on_one_instance_opens_a_stream_on_another_once(tmp_path, runtime, redis_url):
    a, b = two_instances(tmp_path, runtime, redis_url)
    with TestClient(a) as client_a, TestClient(b) as client_b:
        token = webhook(client_a, "CA1").find("./Connect/Stream/Parameter").get("value")
        start = {"event": "start", "start": {"streamSid": "MZ1", "callSid": "CA1", "customParameters": {"token": token}}}
        with client_b.websocket_connect("/ws/media") as ws:
            ws.send_text(json.dumps(start))
            served = json.loads(ws.receive_text())  # the greeting: instance b took the token
            ws.send_text(json.dumps({"event": "stop", "streamSid": "MZ1"}))
        with client_a.websocket_connect("/ws/media") as ws:
            ws.send_text(json.dumps(start))
            with pytest.raises(WebSocketDisconnect) as replay:
                ws.receive_text()
    assert served["event"] in ("media", "mark")
    assert replay.value.code == 1008


async def test_the_slots_of_a_crashed_instance_expire(redis_url):
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        crashed, alive = RedisCallSlots(client, limit=1), RedisCallSlots(client, limit=1)
        assert await crashed.take("CA1", ttl_secs=0.3)
        assert not await alive.take("CA2", ttl_secs=30)  # full while the crashed instance's slot lives
        await __import__("asyncio").sleep(0.5)  # no heartbeat renews it
        assert await alive.take("CA2", ttl_secs=30)
        assert await alive.count() == 1
    finally:
        await client.aclose()


async def test_with_redis_down_calls_still_go_through_and_the_failure_is_counted(tmp_path):
    metrics = CallMetrics()
    gate = AccessGate(make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0"), metrics)
    await gate.start()
    try:
        token = await gate.answer_call("CA1", "+15551234567")
        admitted = await gate.admit_stream(StreamStart(stream_sid="MZ1", call_sid="CA1",
                                                       account_sid=None, custom_parameters={"token": token}))
        replay = await gate.admit_stream(StreamStart(stream_sid="MZ2", call_sid="CA1",
                                                     account_sid=None, custom_parameters={"token": token}))
    finally:
        await gate.stop()
    assert isinstance(token, str) and isinstance(admitted, StreamStart)
    assert admitted.caller == "+15551234567"
    assert isinstance(replay, Refusal) and replay.reason == "stream_token"  # single use still holds on this instance
    assert metrics.errors.labels(component="shared_state")._value.get() >= 3
