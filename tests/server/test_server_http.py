"""Webhook TwiML, signature checks, health and metrics, through the app object."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from tests.conftest import make_settings
from voiceagent.server import create_app

TOKEN = "test-auth-token-0123456789abcdef"
FORM = {"CallSid": "CA123", "AccountSid": "AC123", "From": "+15551234567", "To": "+15557654321"}


def _stream(xml: str) -> ET.Element:
    root = ET.fromstring(xml)
    stream = root.find("./Connect/Stream")
    assert stream is not None, xml
    return stream


def test_webhook_answers_with_a_stream_to_the_public_host(tmp_path, runtime):
    app = create_app(make_settings(tmp_path), runtime=runtime)
    with TestClient(app) as client:
        response = client.post("/webhook/voice", data=FORM, headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "agent.example.com"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    stream = _stream(response.text)
    assert stream.get("url") == "wss://agent.example.com/ws/media"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    # Only the signed stream token: the caller and CallSid travel inside it, not as parameters a client rewrites.
    assert list(params) == ["token"] and len(params["token"]) > 40


def test_webhook_uses_the_configured_public_url(tmp_path, runtime):
    app = create_app(make_settings(tmp_path, public_url="https://voice.byteai.test"), runtime=runtime)
    with TestClient(app) as client:
        response = client.post("/webhook/voice", data=FORM)
    assert _stream(response.text).get("url") == "wss://voice.byteai.test/ws/media"


def test_signed_webhook_is_accepted_and_unsigned_or_forged_get_403(tmp_path, runtime):
    app = create_app(make_settings(tmp_path, twilio_auth_token=TOKEN, public_url="https://voice.byteai.test"), runtime=runtime)
    url = "https://voice.byteai.test/webhook/voice"
    signature = RequestValidator(TOKEN).compute_signature(url, FORM)
    with TestClient(app) as client:
        good = client.post("/webhook/voice", data=FORM, headers={"X-Twilio-Signature": signature})
        missing = client.post("/webhook/voice", data=FORM)
        forged = client.post("/webhook/voice", data={**FORM, "From": "+15550000000"}, headers={"X-Twilio-Signature": signature})
        metrics = client.get("/metrics").text
    assert good.status_code == 200
    assert missing.status_code == 403
    assert forged.status_code == 403
    assert 'voiceagent_rejected_requests_total{reason="signature"} 2.0' in metrics


def test_signature_behind_a_proxy_uses_forwarded_headers(tmp_path, runtime):
    app = create_app(make_settings(tmp_path, twilio_auth_token=TOKEN), runtime=runtime)
    url = "https://public.example.com/webhook/voice"
    signature = RequestValidator(TOKEN).compute_signature(url, FORM)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example.com"}
    with TestClient(app) as client:
        assert client.post("/webhook/voice", data=FORM, headers=headers).status_code == 200


def test_health_and_metrics(tmp_path, runtime):
    app = create_app(make_settings(tmp_path), runtime=runtime)
    with TestClient(app) as client:
        health = client.get("/health")
        metrics = client.get("/metrics")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["stack"]["stt"] == "embedded"
    body = metrics.text
    assert "voiceagent_active_calls 0.0" in body
    assert 'voiceagent_calls_total{outcome="completed"} 0.0' in body
    assert "voiceagent_response_latency_seconds_bucket" in body


def test_health_is_503_until_models_are_loaded(tmp_path, monkeypatch):
    import voiceagent.server as server

    def never_ready(settings):
        raise RuntimeError("model file missing")

    monkeypatch.setattr(server.AgentRuntime, "load", staticmethod(never_ready))
    app = create_app(make_settings(tmp_path))
    with TestClient(app) as client:
        health = client.get("/health")
    assert health.status_code == 503
    assert health.json() == {"status": "failed"}  # the reason goes to the log only: /health is public
    assert "model file missing" not in health.text


async def test_shutdown_without_a_drain_lets_an_ending_call_finish_and_cancels_one_that_outlives_the_grace(
        tmp_path, runtime):
    # uvicorn shut down without draining (its sockets are closed): calls get SHUTDOWN_GRACE_SECS to save their
    # records. The drain itself is in test_drain.py.
    app = create_app(make_settings(tmp_path, shutdown_grace_secs=1.0), runtime=runtime)
    saved = []

    async def ending_call():  # its line has closed; it is writing its record
        await asyncio.sleep(0.3)
        saved.append("record")

    async with app.router.lifespan_context(app):
        ending = asyncio.create_task(ending_call())
        stuck = asyncio.create_task(asyncio.sleep(30))
        app.state.agent.calls.update({ending, stuck})
    await asyncio.sleep(0)
    assert saved == ["record"] and not ending.cancelled()
    assert stuck.cancelled() or stuck.cancelling()
