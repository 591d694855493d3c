"""Stream tokens on a real server: Twilio's path (signed webhook -> TwiML -> stream with its token) opens a call;
a missing, forged, replayed or borrowed token is closed with 1008; the caller comes from the token."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.call.helpers import saved_call_record
from tests.conftest import make_settings
from voiceagent.simulate.run import free_port, local_server, signed_headers, twilio_call
from voiceagent.simulate.webhook import answer_call, webhook_url

AUTH_TOKEN = "test-auth-token-0123456789abcdef"


async def open_stream(url: str, parameters: dict, call_sid: str, auth_token: str | None) -> int | None:
    """Send `connected` + `start` as Twilio does; the close code if the server refuses, None once it is served
    (its greeting arrives; the stream then stops like a caller hanging up)."""
    start = {"event": "start", "sequenceNumber": "1", "streamSid": "MZ" + uuid.uuid4().hex,
             "start": {"streamSid": "MZ" + uuid.uuid4().hex, "callSid": call_sid, "accountSid": "AC" + "0" * 32,
                       "tracks": ["inbound"], "customParameters": parameters,
                       "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    async with connect(url, additional_headers=signed_headers(url, auth_token)) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps(start))
        try:
            await asyncio.wait_for(ws.recv(), timeout=30)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        await ws.send(json.dumps({"event": "stop", "streamSid": start["streamSid"], "stop": {"callSid": call_sid}}))
        return None


async def rejected_tokens(url: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(url.replace("ws://", "http://").replace("/ws/media", "/metrics"))).text
    return float(next(line.split()[-1] for line in text.splitlines()
                      if line.startswith('voiceagent_rejected_requests_total{reason="stream_token"}')))


@pytest.fixture
async def signed_server(tmp_path, runtime):
    async with local_server(runtime, make_settings(tmp_path, twilio_auth_token=AUTH_TOKEN)) as url:
        yield url


async def test_the_webhook_token_opens_its_stream_once_and_a_replay_is_closed_1008(signed_server):
    call_sid = "CA" + uuid.uuid4().hex
    answer = await answer_call(signed_server, call_sid=call_sid, caller_number="+15551234567", auth_token=AUTH_TOKEN)
    assert answer.stream_url == signed_server and list(answer.parameters) == ["token"]
    assert await open_stream(answer.stream_url, answer.parameters, call_sid, AUTH_TOKEN) is None
    # The same upgrade and start again (a captured token replayed): refused.
    assert await open_stream(answer.stream_url, answer.parameters, call_sid, AUTH_TOKEN) == 1008
    assert await rejected_tokens(signed_server) == 1


async def test_a_missing_forged_or_borrowed_token_is_closed_1008(signed_server):
    call_sid = "CA" + uuid.uuid4().hex
    answer = await answer_call(signed_server, call_sid=call_sid, caller_number="+15551234567", auth_token=AUTH_TOKEN)
    token = answer.parameters["token"]
    codes = [
        await open_stream(signed_server, {"caller": "+15551234567", "callSid": call_sid}, call_sid, AUTH_TOKEN),
        await open_stream(signed_server, {"token": token[:-3] + "xyz"}, call_sid, AUTH_TOKEN),
        await open_stream(signed_server, {"token": token}, "CA" + uuid.uuid4().hex, AUTH_TOKEN),  # another call
    ]
    assert codes == [1008, 1008, 1008]
    assert await rejected_tokens(signed_server) == 3


async def test_the_caller_number_comes_from_the_token_not_from_custom_parameters(signed_server, runtime):
    call_sid = "CA" + uuid.uuid4().hex
    answer = await answer_call(signed_server, call_sid=call_sid, caller_number="+15551234567", auth_token=AUTH_TOKEN)
    claimed = {**answer.parameters, "caller": "+15550000000", "From": "+15550000000", "callSid": "CAother"}
    assert await open_stream(signed_server, claimed, call_sid, AUTH_TOKEN) is None
    assert (await saved_call_record(runtime, call_sid)).caller == "***67"  # the signed webhook's From, not the client's "…00"


async def test_without_an_auth_token_tokens_are_optional_but_checked_when_given(tmp_path, runtime):
    async with local_server(runtime, make_settings(tmp_path)) as url:
        call_sid = "CA" + uuid.uuid4().hex
        plain = await open_stream(url, {"caller": "+15551234567", "callSid": call_sid}, call_sid, None)
        forged = await open_stream(url, {"token": "not-a-token"}, "CA" + uuid.uuid4().hex, None)
        count = await rejected_tokens(url)
    assert plain is None
    assert forged == 1008 and count == 1


@pytest.mark.realtime
def test_voiceagent_call_goes_through_the_signed_webhook_when_the_auth_token_is_set(tmp_path):
    env = {**os.environ, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "DATA_DIR": str(tmp_path), "TWILIO_ACCOUNT_SID": ""}
    done = subprocess.run([sys.executable, "-m", "voiceagent.cli", "call", "--say", "How much does the Pro plan cost?"],
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "turn 1: response latency" in done.stdout and "no answer" not in done.stdout, done.stdout
    assert "Refused" not in done.stderr, done.stderr[-2000:]


def test_the_webhook_is_found_next_to_the_media_stream():
    assert webhook_url("ws://127.0.0.1:8000/ws/media") == "http://127.0.0.1:8000/webhook/voice"
    assert webhook_url("wss://agent.example.com/ws/media") == "https://agent.example.com/webhook/voice"


async def test_a_server_without_a_webhook_is_streamed_to_directly():
    bare = FastAPI()  # media stream only, as an older server or another implementation
    starts = []

    @bare.websocket("/ws/media")
    async def media(websocket: WebSocket):
        await websocket.accept()
        while (message := json.loads(await websocket.receive_text()))["event"] != "start":
            pass
        starts.append(message["start"]["customParameters"])
        await websocket.close(code=1000)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(bare, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        result = await twilio_call(f"ws://127.0.0.1:{port}/ws/media", [], caller_number="+15551234567")
    finally:
        server.should_exit = True
        await serving
    assert starts == [{"caller": "+15551234567", "callSid": result.call_sid}]
    assert not result.refused
