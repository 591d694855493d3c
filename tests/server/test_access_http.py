"""Limits and exposure through the app: 429 per client IP, calls per number, the busy line, /metrics, /health."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from tests.conftest import make_settings
from voiceagent.server import create_app
from voiceagent.shared.phrases import LINES_BUSY, TOO_MANY_CALLS


def call_form(call_sid: str = "CA1", caller: str = "+15551234567") -> dict:
    return {"CallSid": call_sid, "AccountSid": "AC1", "From": caller, "To": "+15557654321"}


def said(twiml: str) -> tuple[str | None, bool, bool]:
    """(the <Say> line, whether it hangs up, whether it connects a stream) of a TwiML answer."""
    root = ET.fromstring(twiml)
    say = root.find("Say")
    return (say.text if say is not None else None, root.find("Hangup") is not None,
            root.find("./Connect/Stream") is not None)


def rejected(client: TestClient, reason: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'voiceagent_rejected_requests_total{{reason="{reason}"}}'):
            return float(line.split()[-1])
    raise AssertionError(f"no rejected_requests series for {reason}")


def test_a_client_over_its_request_budget_gets_429_with_retry_after(tmp_path, runtime):
    app = create_app(make_settings(tmp_path, rate_limit_per_minute=3), runtime=runtime)
    with TestClient(app) as client:
        answers = [client.get("/health") for _ in range(4)]
        with pytest.raises(WebSocketDenialResponse) as upgrade:  # a WebSocket upgrade spends the same budget
            with client.websocket_connect("/ws/media"):
                pass
        with TestClient(app, client=("203.0.113.7", 4000)) as other:
            assert other.get("/health").status_code == 200  # another client has a budget of its own
        counted = app.state.agent.metrics.rejected_requests.labels(reason="rate_limit")._value.get()
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
    assert upgrade.value.status_code == 429 and 1 <= int(upgrade.value.headers["retry-after"]) <= 60
    assert counted == 2


def test_x_forwarded_for_names_the_client_only_behind_a_trusted_proxy(tmp_path, runtime):
    settings = make_settings(tmp_path, rate_limit_per_minute=2, trusted_proxies="10.0.0.0/8, 192.0.2.1")
    app = create_app(settings, runtime=runtime)
    with TestClient(app, client=("10.1.2.3", 5000)) as proxy, TestClient(app, client=("198.51.100.4", 5000)) as direct:
        # Behind the trusted proxy each client has its own budget (the proxy's own hop is skipped too).
        behind = [proxy.get("/health", headers={"X-Forwarded-For": f"203.0.113.{n % 2}, 10.9.9.9"}).status_code
                  for n in range(4)]
        spoofed_left = proxy.get("/health", headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.0"}).status_code
        # An untrusted peer cannot buy budgets by writing the header: it is counted as itself.
        forged = [direct.get("/health", headers={"X-Forwarded-For": f"203.0.113.{50 + n}"}).status_code
                  for n in range(3)]
    assert behind == [200, 200, 200, 200]
    assert spoofed_left == 429  # the hop the trusted proxy saw is 203.0.113.0, whatever the client put left of it
    assert forged == [200, 200, 429]


def test_calls_from_one_number_over_the_hourly_budget_hear_a_polite_refusal(tmp_path, runtime):
    app = create_app(make_settings(tmp_path, calls_per_number_per_hour=2, business_name="ByteAI"), runtime=runtime)
    with TestClient(app) as client:
        answers = [said(client.post("/webhook/voice", data=call_form(f"CA{n}")).text) for n in range(3)]
        other_number = said(client.post("/webhook/voice", data=call_form("CA9", "+15550001111")).text)
        count = rejected(client, "number_limit")
    assert answers[0] == answers[1] == (None, False, True)
    assert answers[2] == (TOO_MANY_CALLS.format(business="ByteAI"), True, False)
    assert other_number == (None, False, True)
    assert count == 1


def test_over_max_concurrent_calls_the_webhook_says_the_busy_line_and_a_stream_gets_1013(tmp_path, runtime):
    app = create_app(make_settings(tmp_path, max_concurrent_calls=1), runtime=runtime)
    with TestClient(app) as client:
        first = said(client.post("/webhook/voice", data=call_form("CA1")).text)
        second = said(client.post("/webhook/voice", data=call_form("CA2")).text)
        # A stream arriving anyway (no webhook before it: a development client) is closed, not served.
        with client.websocket_connect("/ws/media") as ws:
            ws.send_text(json.dumps({"event": "start", "start": {"streamSid": "MZ2", "callSid": "CA2"}}))
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
        busy = rejected(client, "busy")
    assert first == (None, False, True)
    assert second == (LINES_BUSY.format(business="ByteAI"), True, False)
    assert closed.value.code == 1013
    assert busy == 2


def test_metrics_need_the_bearer_token_when_one_is_set(tmp_path, runtime):
    app = create_app(make_settings(tmp_path, metrics_token="m-token-123"), runtime=runtime)
    with TestClient(app) as client:
        none = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer m-token-124"})
        right = client.get("/metrics", headers={"Authorization": "Bearer m-token-123"})
        health = client.get("/health")
    assert none.status_code == wrong.status_code == 401
    assert none.headers["www-authenticate"] == "Bearer" and "voiceagent_" not in wrong.text
    assert right.status_code == 200 and "voiceagent_active_calls" in right.text
    assert health.status_code == 200  # health stays open for load balancers


def test_every_refusal_reason_is_a_series_from_the_start(tmp_path, runtime):
    app = create_app(make_settings(tmp_path), runtime=runtime)
    with TestClient(app) as client:
        counts = {reason: rejected(client, reason) for reason in
                  ("signature", "stream_token", "rate_limit", "number_limit", "busy", "draining", "protocol")}
    assert counts == dict.fromkeys(counts, 0.0)
