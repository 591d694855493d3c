"""The plan's call flow on every brain, in real-time calls through the real clients: Claude (Pipecat's Anthropic
service and the official SDK) and an OpenAI-compatible LLM against their emulators, Twilio's REST API (the
official SDK and Pipecat's serializer) against its emulator. Greeting, a booking with a listening cue and a
confirmation text, goodbye, and the server hanging up; a caller who speaks after the goodbye; the idle hang-up.

The figures for the report (cue delay, closing line -> hang-up) are printed with the call's timeline (-s)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from tests.call.helpers import runtime_with, squash
from tests.conftest import make_settings
from voiceagent.emulators.anthropic_messages import AnthropicEmulator, serve
from voiceagent.emulators.openai_chat import OpenAIChatEmulator
from voiceagent.emulators.run import serve_app
from voiceagent.emulators.twilio_rest import TwilioRestEmulator
from voiceagent.simulate.audio import SAMPLE_RATE
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import CallReport, local_server, transcribe_agent, twilio_call
from voiceagent.storage import CallRecordRow, Database
from voiceagent.telephony.rest import TwilioCallControl, TwilioMessages

pytestmark = pytest.mark.realtime  # every test here places a real-time call

SMS_FROM = "+15550009999"
# "Let me check that for you...", as the caller-side Whisper hears it (sometimes "let me take that for you")
CUE = re.compile(r"letme\w{3,6}thatforyou")
CALLER = "+15550100"  # the simulated caller's number


def booking_day() -> datetime:
    """A business day two to four days ahead: its weekday name names one date, whatever day the test runs."""
    day = datetime.now(ZoneInfo("America/New_York")) + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
async def twilio():
    emulator = TwilioRestEmulator()
    runner, emulator.url = await serve_app(emulator.app())
    yield emulator
    await runner.cleanup()


@pytest.fixture
async def claude():
    emulator = AnthropicEmulator(first_token_ms=400)
    emulator.faults.slow_tool_ms = 1000  # the answer to a tool result takes a while: the caller hears the cue
    runner, emulator.url = await serve(emulator)
    yield emulator
    await runner.cleanup()


@pytest.fixture
async def openai_llm():
    emulator = OpenAIChatEmulator(first_token_ms=300)
    emulator.faults.slow_tool_ms = 1000
    runner, url = await serve_app(emulator.app())
    emulator.url = url + "/v1"
    yield emulator
    await runner.cleanup()


def flow_runtime(runtime, tmp_path, twilio, **llm):
    """Settings for an LLM brain with Twilio credentials (REST hang-up, transfer) and SMS_FROM (texts)."""
    settings = make_settings(tmp_path, twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
                             twilio_api_base_url=twilio.url, sms_from=SMS_FROM, **llm)
    database = Database(f"sqlite:///{tmp_path / 'flow.db'}")
    database.create_all()
    token = settings.twilio_auth_token.get_secret_value()
    return runtime_with(runtime, settings, database=database,
                        call_control=TwilioCallControl(twilio.account_sid, token, twilio.url),
                        text_messages=TwilioMessages(twilio.account_sid, token, SMS_FROM, twilio.url))


@pytest.fixture
def claude_runtime(runtime, tmp_path, twilio, claude):
    return flow_runtime(runtime, tmp_path, twilio, anthropic_api_key="test-key", anthropic_base_url=claude.url)


@pytest.fixture
def openai_runtime(runtime, tmp_path, twilio, openai_llm):
    return flow_runtime(runtime, tmp_path, twilio, openai_llm_model="llama-3.1-8b-instruct",
                        openai_llm_base_url=openai_llm.url, openai_llm_api_key="test-key")


async def call_with_metrics(agent_runtime, turns: list[CallerTurn], patient: bool = True) -> tuple[CallReport, str]:
    """One signed call, then the server's /metrics once the call has been counted. A patient caller takes 3 s of
    quiet as the end of an answer (someone told "let me check that for you" waits, and Pipecat holds the LLM's
    answer to a tool result until the agent has finished speaking the cue), and waits 25 s for a whole reply."""
    token = agent_runtime.settings.twilio_auth_token.get_secret_value()
    patience = {"agent_quiet_secs": 3.0, "reply_timeout": 25.0} if patient else {}
    async with local_server(agent_runtime, agent_runtime.settings) as url:
        result = await twilio_call(url, turns, auth_token=token, **patience)
        texts = await asyncio.to_thread(transcribe_agent, result, agent_runtime.speech_models)
        report = CallReport(result=result, agent_texts=texts)
        async with httpx.AsyncClient() as client:
            for _ in range(50):
                metrics = (await client.get(url.replace("ws://", "http://").replace("/ws/media", "/metrics"))).text
                if "voiceagent_active_calls 0.0" in metrics:
                    break
                await asyncio.sleep(0.1)
    return report, metrics


async def saved_outcome(database: Database) -> str:
    for _ in range(50):
        with database.session() as session:
            row = session.scalars(select(CallRecordRow)).first()
        if row is not None:
            return row.outcome
        await asyncio.sleep(0.1)
    raise AssertionError("the call record was not saved")


def figures(report: CallReport, booking_turn: int) -> dict[str, float]:
    """Cue delay (end of the caller's booking words -> first agent audio after them, which is the cue) and closing
    line -> hang-up (the end of the agent's last audible audio, as played at the phone -> the socket closed)."""
    result = report.result
    speech_end = result.turns[booking_turn].speech_end
    after = next(s for s in result.agent if s.started > speech_end)
    last_end = max(at + len(pcm) / SAMPLE_RATE for at, pcm in result.agent_track if np.abs(pcm).max(initial=0) >= 200)
    return {"cue_delay": after.started - speech_end, "closing_to_hangup": result.ended - last_end}


async def booking_call_then_goodbye(agent_runtime, caller_voice, twilio, llm_requests, label: str):
    day = booking_day()
    lines = [f"Please book an appointment for {day:%A} at 10 am. My name is Jane Smith.", "No, thanks, bye."]
    turns = [CallerTurn(audio=caller_voice.say(line), text=line) for line in lines]
    report, metrics = await call_with_metrics(agent_runtime, turns)
    for row in report.timeline():
        print(f"{label} {row[0]:6.2f}s {row[1]:6} {row[2]}")
    spoken = squash(" ".join(report.replies))
    print(f"{label} figures:", {k: round(v, 2) for k, v in figures(report, 0).items()})

    # The cue: heard once, first after the caller's words, before the booking's answer.
    cues = list(CUE.finditer(spoken))
    assert len(cues) == 1, report.agent_texts
    first_after = report.agent_texts[[s.started > report.result.turns[0].speech_end
                                      for s in report.result.agent].index(True)]
    assert CUE.match(squash(first_after)), report.agent_texts
    assert cues[0].start() < spoken.index("scheduled"), report.agent_texts
    # The text message: sent through the Messages API before the answer promised it.
    assert "confirmationtext" in spoken, report.agent_texts
    (message,) = twilio.messages
    assert message["to"] == CALLER and message["from"] == SMS_FROM
    assert f"{day:%A}, {day:%B} {day.day}" in message["body"] and "10:00 AM" in message["body"]
    assert "Booking reference BK-" in message["body"] and "Jane" not in message["body"]
    # Goodbye: the closing line, then the server hangs up (Twilio's REST API told to complete the call).
    assert "thanksforcalling" in spoken[spoken.index("scheduled"):], report.agent_texts
    assert report.result.hung_up_by_agent, report.timeline()
    assert {"call_sid": report.result.call_sid, "Status": "completed"} in twilio.requests
    assert any("end_call" in json.dumps(request) for request in llm_requests)
    # Same outcomes, same metrics, whatever the brain.
    assert await saved_outcome(agent_runtime.database) == "completed"
    assert 'voiceagent_tool_calls_total{result="ok",tool="book_appointment"} 1.0' in metrics
    assert 'voiceagent_tool_calls_total{result="ok",tool="end_call"} 1.0' in metrics
    assert 'voiceagent_sms_total{result="sent"} 1.0' in metrics
    assert 'voiceagent_calls_total{outcome="completed"} 1.0' in metrics


async def test_claude_books_cues_texts_says_goodbye_and_hangs_up(claude_runtime, caller_voice, twilio, claude):
    await booking_call_then_goodbye(claude_runtime, caller_voice, twilio, claude.requests, "claude")


async def test_an_openai_compatible_llm_does_the_same(openai_runtime, caller_voice, twilio, openai_llm):
    await booking_call_then_goodbye(openai_runtime, caller_voice, twilio, openai_llm.requests, "openai")


async def test_a_caller_who_speaks_after_the_goodbye_keeps_the_call(runtime, tmp_path, twilio, claude, caller_voice):
    # A wider window than the 2 s default, so the caller's words land inside it even on a busy machine.
    agent_runtime = flow_runtime(runtime, tmp_path, twilio, anthropic_api_key="test-key",
                                 anthropic_base_url=claude.url, hangup_after_goodbye_secs=4.0)
    turns = [CallerTurn(audio=caller_voice.say("That's all, goodbye."), text="goodbye"),
             CallerTurn(audio=caller_voice.say("Oh wait, how much is the Pro plan?"), text="pro", pause_secs=0.0)]
    report, _ = await call_with_metrics(agent_runtime, turns, patient=False)  # speaks 1.2 s after the goodbye
    spoken = squash(" ".join(report.replies))
    assert "thanksforcalling" in spoken and "99" in spoken[spoken.index("thanksforcalling"):], report.agent_texts
    assert not report.result.hung_up_by_agent  # the caller hung up, after the answer
    assert await saved_outcome(agent_runtime.database) == "caller_hung_up"


async def test_a_silent_caller_is_asked_then_told_goodbye_and_hung_up(runtime, tmp_path, caller_voice):
    """The offline brain here: the idle check sits in the user aggregator every brain shares."""
    settings = make_settings(tmp_path, idle_hangup_secs=4.0)
    database = Database(f"sqlite:///{tmp_path / 'idle.db'}")
    database.create_all()
    agent_runtime = runtime_with(runtime, settings, database=database)
    async with local_server(agent_runtime, settings) as url:
        result = await twilio_call(url, [], hang_up_after_secs=20.0)  # greeted, then never says a word
    texts = await asyncio.to_thread(transcribe_agent, result, runtime.speech_models)
    report = CallReport(result=result, agent_texts=texts)
    for row in report.timeline():
        print(f"idle {row[0]:6.2f}s {row[1]:6} {row[2]}")
    assert [squash(text)[:14] for text in texts] == ["hellothanksfor", "areyoustillthe", "icanthearanyth"], texts
    assert result.hung_up_by_agent
    assert await saved_outcome(database) == "completed"
    silences = np.diff([speech.started for speech in result.agent])
    print("idle figures: greeting -> question -> goodbye starts", [round(float(s), 2) for s in silences])
