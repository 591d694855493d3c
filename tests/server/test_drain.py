"""Graceful drain for deploys: SIGTERM -> /health draining, new calls hear the busy line, running calls go on up
to DRAIN_SECS, then hear the closing line and end with their records saved; uvicorn shuts down after."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.call.helpers import squash
from tests.conftest import make_settings
from voiceagent.access.drain import Drain
from voiceagent.server import create_app, make_server
from voiceagent.shared.phrases import LINES_BUSY
from voiceagent.simulate.bench import ServerProcess
from voiceagent.simulate.run import free_port, transcribe_agent, twilio_call
from voiceagent.simulate.webhook import signature

FORM = {"CallSid": "CA9", "AccountSid": "AC1", "From": "+15551234567", "To": "+15557654321"}


async def test_calls_that_end_in_time_are_left_alone_and_the_rest_are_asked_to_close():
    drain = Drain(drain_secs=0.3, grace_secs=5)
    said_goodbye = []

    async def short_call():
        await asyncio.sleep(0.1)

    async def long_call():  # ends once asked to close, as run_call does after its closing line
        await drain.closing.wait()
        said_goodbye.append("closing line")

    short, long = asyncio.create_task(short_call()), asyncio.create_task(long_call())
    calls = {short, long}
    for task in (short, long):
        task.add_done_callback(calls.discard)
    short.add_done_callback(lambda _: said_goodbye.append(f"short call ended, closing={drain.closing.is_set()}"))
    await drain.run(calls)
    assert long.done() and not calls
    assert said_goodbye == ["short call ended, closing=False", "closing line"]
    assert drain.finished.is_set()


async def test_a_call_that_ignores_the_closing_is_left_for_the_shutdown_to_cancel():
    drain = Drain(drain_secs=0.1, grace_secs=0.2)
    stuck = asyncio.create_task(asyncio.sleep(30))
    await drain.run({stuck})
    assert drain.closing.is_set() and not stuck.done()
    stuck.cancel()


async def test_sigterm_drains_before_uvicorn_shuts_down(tmp_path, runtime):
    app = create_app(make_settings(tmp_path, drain_secs=60, shutdown_grace_secs=5), runtime=runtime)
    port = free_port()
    server = make_server(app, "127.0.0.1", port)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    state = app.state.agent
    release = asyncio.Event()

    async def call_in_progress():
        await release.wait()

    call = asyncio.create_task(call_in_progress())
    state.calls.add(call)
    call.add_done_callback(state.calls.discard)
    server.handle_exit(signal.SIGTERM, None)  # what uvicorn's signal handler calls
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(100):
            health = await client.get("/health")
            if health.status_code == 503:
                break
            await asyncio.sleep(0.02)
        webhook = await client.post("/webhook/voice", data=FORM)
        metrics = (await client.get("/metrics")).text
    still_serving = not serving.done()
    release.set()  # the call ends by itself: the drain is over, uvicorn shuts down
    await asyncio.wait_for(serving, timeout=30)
    assert health.json() == {"status": "draining"}
    root = ET.fromstring(webhook.text)
    assert root.find("Say").text == LINES_BUSY.format(business="ByteAI") and root.find("Hangup") is not None
    assert 'voiceagent_rejected_requests_total{reason="draining"} 1.0' in metrics
    assert still_serving and not state.gate.drain.closing.is_set()


@pytest.mark.realtime
async def test_a_real_server_drains_a_call_in_progress_on_sigterm(runtime):
    token = "drain-test-auth-token"
    env = {"TWILIO_AUTH_TOKEN": token, "DRAIN_SECS": "3", "SHUTDOWN_GRACE_SECS": "20", "LOG_LEVEL": "INFO"}
    async with ServerProcess(env) as server:
        base = f"http://127.0.0.1:{server.port}"
        call = asyncio.create_task(twilio_call(server.url, [], auth_token=token, hang_up_after_secs=60))
        async with httpx.AsyncClient(base_url=base) as client:
            while not (await client.get("/health")).json().get("active_calls"):
                await asyncio.sleep(0.1)
            os.kill(server.pid, signal.SIGTERM)
            await asyncio.sleep(0.3)
            health = await client.get("/health")
            url = f"{base}/webhook/voice"
            webhook = await client.post(url, data=FORM, headers=signature(url, FORM, token))
        result = await asyncio.wait_for(call, timeout=60)
        exit_code = await asyncio.to_thread(server.process.wait, 60)
        with sqlite3.connect(os.path.join(server.env["DATA_DIR"], "voiceagent.db")) as db:
            outcome = db.execute("select outcome from call_records where call_sid = ?", (result.call_sid,)).fetchone()
    assert health.status_code == 503 and health.json() == {"status": "draining"}
    assert "lines are busy" in ET.fromstring(webhook.text).find("Say").text
    heard = squash(" ".join(transcribe_agent(result, runtime.speech_models)))
    assert "callusback" in heard, heard  # the closing line, after the greeting
    assert result.hung_up_by_agent
    assert outcome == ("drained",)
    assert exit_code == 0
