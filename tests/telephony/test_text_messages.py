"""Text messages through the official Twilio SDK against the local Twilio REST emulator's Messages API."""

from __future__ import annotations

import asyncio

import pytest
from twilio.rest import Client

from voiceagent.emulators.run import serve_app
from voiceagent.emulators.twilio_rest import TwilioRestEmulator
from voiceagent.telephony.rest import TwilioMessages

SENDER = "+15550009999"


@pytest.fixture
async def twilio():
    emulator = TwilioRestEmulator()
    runner, emulator.url = await serve_app(emulator.app())
    yield emulator
    await runner.cleanup()


def messages(twilio, token: str | None = None) -> TwilioMessages:
    return TwilioMessages(twilio.account_sid, token or twilio.auth_token, SENDER, twilio.url)


async def test_an_accepted_message_has_twilios_shape(twilio):
    sid = await messages(twilio).send("+15551234567", "Your appointment is confirmed.")
    assert sid and sid.startswith("SM") and len(sid) == 34
    (message,) = twilio.messages
    assert (message["to"], message["from"], message["body"]) == ("+15551234567", SENDER, "Your appointment is confirmed.")
    # What the SDK itself reads back (the 201 parsed into a MessageInstance)
    client = Client(twilio.account_sid, twilio.auth_token)
    client.api.base_url = twilio.url
    created = await asyncio.to_thread(lambda: client.messages.create(to="+15557654321", from_=SENDER, body="Hi"))
    assert created.status == "queued" and created.direction == "outbound-api" and created.num_segments == "1"
    assert created.account_sid == twilio.account_sid and created.uri.endswith(f"/Messages/{created.sid}.json")


@pytest.mark.parametrize(("to", "rate_limited", "code"), [("+0123456789", 0, 21211), ("not a number", 0, 21211),
                                                          ("+15551234567", 1, 20429)])
async def test_a_refused_message_is_none_with_twilios_error(twilio, to, rate_limited, code, caplog_loguru):
    twilio.rate_limit_next = rate_limited
    assert await messages(twilio).send(to, "Your appointment is confirmed.") is None
    assert twilio.messages == []
    logged = "\n".join(line.split(" - ", 1)[-1] for line in caplog_loguru)
    assert f"code {code}" in logged and to not in logged  # the error code, never the number


async def test_bad_credentials_are_refused(twilio, caplog_loguru):
    assert await messages(twilio, token="wrong").send("+15551234567", "Hi") is None
    assert "HTTP 401" in "\n".join(caplog_loguru) and twilio.messages == []


async def test_an_unreachable_api_is_none_not_an_exception():
    unreachable = TwilioMessages("AC" + "0" * 32, "token", SENDER, "http://127.0.0.1:9", timeout=2.0)
    assert await unreachable.send("+15551234567", "Hi") is None


@pytest.fixture
def caplog_loguru():
    from loguru import logger

    lines: list[str] = []
    handler = logger.add(lambda message: lines.append(str(message)), level="WARNING")
    yield lines
    logger.remove(handler)
