"""Who sees the console and may use the softphone: loopback without CONSOLE_TOKEN, else the token only."""

from __future__ import annotations

import pytest

from tests.web.conftest import CALL_SID, CONSOLE_TOKEN, local_client, remote_client
from voiceagent.web.access import COOKIE_NAME, ConsoleAccess, Grant, is_local, same_origin

HTML = {"Accept": "text/html"}


@pytest.mark.parametrize(("peer", "headers", "local"), [
    ("127.0.0.1", {"host": "127.0.0.1:8000"}, True),
    ("::1", {"host": "[::1]:8000"}, True),
    ("127.0.0.1", {"host": "localhost"}, True),
    ("203.0.113.9", {"host": "localhost:8000"}, False),  # a remote peer
    ("127.0.0.1", {"host": "agent.example.com"}, False),  # a loopback peer reached by another name (rebinding)
    ("127.0.0.1", {"host": "127.0.0.1", "x-forwarded-for": "203.0.113.9"}, False),  # a proxy on this machine
    ("127.0.0.1", {"host": "127.0.0.1", "forwarded": "for=203.0.113.9"}, False),
    (None, {"host": "127.0.0.1"}, False),
])
def test_only_a_visitor_on_this_machine_by_a_loopback_name_is_local(peer, headers, local):
    assert is_local(peer, headers) is local


def test_the_token_grants_by_bearer_cookie_or_query_and_nothing_else():
    access = ConsoleAccess(CONSOLE_TOKEN)
    remote = ("203.0.113.9", {"host": "agent.example.com"})
    grant = lambda headers=None, query=None, cookies=None: access.console(  # noqa: E731
        remote[0], {**remote[1], **(headers or {})}, query or {}, cookies or {})
    assert grant() is Grant.NONE
    assert grant({"authorization": f"Bearer {CONSOLE_TOKEN}"}) is Grant.TOKEN
    assert grant({"authorization": f"bearer {CONSOLE_TOKEN}"}) is Grant.TOKEN
    assert grant({"authorization": "Bearer wrong"}) is Grant.NONE
    assert grant({"authorization": CONSOLE_TOKEN}) is Grant.NONE  # not a bearer credential
    assert grant(query={"token": CONSOLE_TOKEN}) is Grant.TOKEN_IN_QUERY
    assert grant(query={"token": CONSOLE_TOKEN[:-1]}) is Grant.NONE
    assert grant(cookies={COOKIE_NAME: access.cookie_value()}) is Grant.TOKEN
    assert grant(cookies={COOKIE_NAME: CONSOLE_TOKEN}) is Grant.NONE  # the cookie holds an HMAC, not the token
    assert ConsoleAccess("another token").cookie_value() != access.cookie_value()


def test_with_a_token_the_console_needs_it_on_loopback_too_but_the_phone_does_not():
    access = ConsoleAccess(CONSOLE_TOKEN)
    local = ("127.0.0.1", {"host": "127.0.0.1:8000"})
    assert access.console(*local, {}, {}) is Grant.NONE
    assert access.phone(*local, {}, {}) is Grant.LOCAL
    assert access.phone("203.0.113.9", {"host": "agent.example.com"}, {}, {}) is Grant.NONE
    assert ConsoleAccess(None).console(*local, {}, {}) is Grant.LOCAL
    assert ConsoleAccess(None).console("203.0.113.9", {"host": "x"}, {"token": ""}, {}) is Grant.NONE


def test_a_page_of_another_site_is_not_same_origin():
    assert same_origin({"host": "127.0.0.1:8000"})  # no Origin: not a cross-site browser request
    assert same_origin({"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"})
    assert not same_origin({"host": "127.0.0.1:8000", "origin": "https://evil.example"})
    assert not same_origin({"host": "127.0.0.1:8000", "origin": "http://localhost:8000"})


def test_without_console_token_the_console_is_open_on_loopback_only(web_app):
    app = web_app()
    with local_client(app) as local, remote_client(app) as remote:
        shown = local.get("/console", headers=HTML)
        refused = remote.get("/console", headers=HTML)
        refused_call = remote.get(f"/console/calls/{CALL_SID}")
        refused_with_a_token = remote.get(f"/console?token={CONSOLE_TOKEN}")
    assert shown.status_code == 200 and CALL_SID in shown.text
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert CALL_SID not in refused.text and "escalated" not in refused.text
    assert refused_call.status_code == 401 and "escalate_to_human" not in refused_call.text
    assert refused_with_a_token.status_code == 401


def test_the_bearer_token_opens_the_console_and_a_wrong_one_does_not(web_app):
    app = web_app(console_token=CONSOLE_TOKEN)
    with remote_client(app) as remote, local_client(app) as local:
        good = remote.get(f"/console/calls/{CALL_SID}", headers={"Authorization": f"Bearer {CONSOLE_TOKEN}"})
        wrong = remote.get(f"/console/calls/{CALL_SID}", headers={"Authorization": "Bearer not-the-token"})
        loopback_without = local.get("/console", headers=HTML)
    assert good.status_code == 200
    assert "escalate_to_human" in good.text and "wants a person" in good.text
    assert wrong.status_code == 401 and "escalate_to_human" not in wrong.text
    assert loopback_without.status_code == 401 and CALL_SID not in loopback_without.text


def test_token_in_the_query_sets_a_strict_httponly_cookie_and_leaves_the_address_bar(web_app):
    app = web_app(console_token=CONSOLE_TOKEN)
    with remote_client(app) as remote:
        first = remote.get(f"/console?outcome=escalated&token={CONSOLE_TOKEN}")
        cookie = first.headers["set-cookie"]
        later = remote.get("/console?outcome=escalated")  # the client sends the cookie back
        remote.cookies.clear()
        forgotten = remote.get("/console")
    assert first.status_code == 303
    assert first.headers["location"] == "/console?outcome=escalated"
    assert CONSOLE_TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie and "Path=/" in cookie
    assert later.status_code == 200 and CALL_SID in later.text
    assert forgotten.status_code == 401


def test_the_softphone_is_open_on_loopback_and_starts_a_call_with_a_stream_token(web_app):
    app = web_app(console_token=CONSOLE_TOKEN)
    with local_client(app) as local, remote_client(app) as remote:
        page = local.get("/phone")
        placed = local.post("/phone/call", headers={"Origin": "http://127.0.0.1:8000"})
        cross_site = local.post("/phone/call", headers={"Origin": "https://evil.example"})
        remote_page = remote.get("/phone", headers=HTML)
        remote_call = remote.post("/phone/call")
        with_token = remote.post("/phone/call", headers={"Authorization": f"Bearer {CONSOLE_TOKEN}"})
    assert page.status_code == 200 and 'id="call"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]  # never framed, nothing from afar
    assert placed.status_code == 200
    answer = placed.json()
    assert answer["call_sid"].startswith("WB") and answer["stream_path"] == "/ws/media"
    assert len(answer["parameters"]["token"]) > 40
    assert answer["events_path"] == f"/phone/events/{answer['call_sid']}"
    assert cross_site.status_code == 403
    assert remote_page.status_code == 401 and remote_call.status_code == 401
    assert with_token.status_code == 200


def test_softphone_calls_count_against_the_same_limits_as_phone_calls(web_app):
    app = web_app(max_concurrent_calls=1)
    with local_client(app) as local:
        first = local.post("/phone/call")
        second = local.post("/phone/call")  # the first one's token still holds the only call slot
    assert first.status_code == 200
    assert second.status_code == 503 and second.json()["error"] == "busy"


def test_events_of_a_call_are_only_for_its_page_or_a_console_user(web_app):
    app = web_app(console_token=CONSOLE_TOKEN)
    with remote_client(app) as remote:
        refused = remote.get("/phone/events/WBsomeoneelse")
    assert refused.status_code == 401


def _open_stream(client, origin: str | None, token: str) -> tuple[int, str]:
    """Open /ws/media as a page would, send `start` with `token`; the close code and reason that come back."""
    from starlette.websockets import WebSocketDisconnect

    headers = {"Origin": origin} if origin else {}
    try:
        url = str(client.base_url.copy_with(scheme="ws" if client.base_url.scheme == "http" else "wss"))
        with client.websocket_connect(url.rstrip("/") + "/ws/media", headers=headers) as socket:
            socket.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
            socket.send_json({"event": "start", "start": {"streamSid": "MZpage", "customParameters": {"token": token},
                                                          "mediaFormat": {"encoding": "audio/x-mulaw",
                                                                          "sampleRate": 8000, "channels": 1}}})
            socket.receive_text()
    except WebSocketDisconnect as closed:
        return closed.code, closed.reason
    raise AssertionError("the stream stayed open")


def test_with_twilio_signatures_on_the_page_streams_unsigned_but_still_needs_its_stream_token(web_app):
    app = web_app(twilio_auth_token="twilio-auth-token-0123456789")
    with local_client(app) as local, remote_client(app) as remote:
        page = _open_stream(local, "http://127.0.0.1:8000", "forged-token")
        other_site = _open_stream(local, "https://evil.example", "forged-token")
        not_a_page = _open_stream(local, None, "forged-token")
        from_afar = _open_stream(remote, "https://agent.example.com", "forged-token")
        metrics = local.get("/metrics").text
    assert page == (1008, "invalid stream token")  # past the signature check, stopped by the token
    assert other_site[1] == not_a_page[1] == from_afar[1] == "invalid signature"
    assert 'voiceagent_rejected_requests_total{reason="signature"} 3.0' in metrics
