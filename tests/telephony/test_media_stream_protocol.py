"""The /ws/media WebSocket against a live server: the Media Streams protocol and bad input."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import make_settings
from voiceagent.simulate.run import local_server


def start_message(stream_sid="MZtest", call_sid="CAtest", **start_overrides):
    start = {"accountSid": "AC0", "streamSid": stream_sid, "callSid": call_sid, "tracks": ["inbound"],
             "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
             "customParameters": {"caller": "+15551234567"}}
    start.update(start_overrides)
    return json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": start})


def media(payload: bytes = b"\xff" * 160, stream_sid="MZtest") -> str:
    return json.dumps({"event": "media", "streamSid": stream_sid,
                       "media": {"track": "inbound", "chunk": "1", "timestamp": "20",
                                 "payload": base64.b64encode(payload).decode()}})


async def first_agent_media(ws, timeout=10.0) -> dict:
    """Wait for the greeting's first media message (proves the call is alive)."""
    async def wait():
        async for raw in ws:
            message = json.loads(raw)
            if message["event"] == "media":
                return message
    return await asyncio.wait_for(wait(), timeout)


async def metrics_text(url: str) -> str:
    http = url.replace("ws://", "http://").replace("/ws/media", "/metrics")
    async with httpx.AsyncClient() as client:
        return (await client.get(http)).text


@pytest.fixture
async def server(tmp_path, runtime):
    async with local_server(runtime, make_settings(tmp_path)) as url:
        yield url


async def test_garbage_before_start_is_ignored_and_the_call_proceeds(server):
    async with connect(server) as ws:
        await ws.send("{not json")
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(media())  # media before start
        await ws.send(json.dumps({"event": "weird"}))
        await ws.send(json.dumps(["a list"]))
        await ws.send(start_message())
        message = await first_agent_media(ws)
        assert message["streamSid"] == "MZtest"
        assert base64.b64decode(message["media"]["payload"])


async def test_bad_messages_during_a_call_are_ignored(server):
    async with connect(server) as ws:
        await ws.send(start_message())
        await first_agent_media(ws)
        bad = [
            "{broken",
            json.dumps({"event": "media", "media": {"payload": "!!!not base64!!!"}}),
            json.dumps({"event": "media", "media": {}}),
            json.dumps({"event": "dtmf", "dtmf": {"digit": "x"}}),
            json.dumps({"event": "mark", "mark": "nope"}),
            json.dumps({"event": "nonsense"}),
            start_message(),  # a second start
            "x" * 200_000,  # oversized for a media stream, but under the socket limit
        ]
        for message in bad:
            await ws.send(message)
        for _ in range(25):
            await ws.send(media())
        # Still alive: more agent audio keeps coming and a mark sent now is accepted.
        await ws.send(json.dumps({"event": "mark", "streamSid": "MZtest", "mark": {"name": "utt-1"}}))
        assert await first_agent_media(ws)
        assert 'voiceagent_active_calls 1.0' in await metrics_text(server)


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (json.dumps({"event": "start", "start": {"callSid": "CA1"}}), 1008),
        (start_message(mediaFormat={"encoding": "audio/x-l16", "sampleRate": 16000, "channels": 1}), 1003),
    ],
)
async def test_unusable_start_closes_with_a_clear_code(server, start, code):
    async with connect(server) as ws:
        await ws.send(start)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd.code == code
    assert closed.value.rcvd.reason


async def test_a_frame_over_the_socket_limit_closes_only_that_call(server):
    async with connect(server) as healthy:
        await healthy.send(start_message(stream_sid="MZok", call_sid="CAok"))
        await first_agent_media(healthy)
        async with connect(server, max_size=None) as abusive:
            await abusive.send(start_message(stream_sid="MZbad", call_sid="CAbad"))
            with pytest.raises(ConnectionClosed) as closed:
                await abusive.send("y" * (2 << 20))
                await asyncio.wait_for(abusive.recv(), 5)
                while True:
                    await asyncio.wait_for(abusive.recv(), 5)
            assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
        await healthy.send(media(stream_sid="MZok"))
        assert await first_agent_media(healthy)


async def test_stop_ends_the_call_and_frees_it(server):
    async with connect(server) as ws:
        await ws.send(start_message())
        await first_agent_media(ws)
        await ws.send(json.dumps({"event": "stop", "streamSid": "MZtest", "stop": {"callSid": "CAtest"}}))
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 5)
    for _ in range(50):
        text = await metrics_text(server)
        if "voiceagent_active_calls 0.0" in text:
            break
        await asyncio.sleep(0.1)
    assert "voiceagent_active_calls 0.0" in text
    assert 'voiceagent_calls_total{outcome="caller_hung_up"} 1.0' in text


async def test_the_media_stream_is_not_compressed_even_when_the_peer_offers_it(server):
    # websockets offers permessage-deflate by default; 20 ms audio messages are not worth deflating.
    async with connect(server, compression="deflate") as ws:
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        await ws.send(start_message())
        assert (await first_agent_media(ws))["event"] == "media"
