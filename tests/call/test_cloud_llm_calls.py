"""Calls with the cloud LLM path: Pipecat's Anthropic service and the official SDK against the local
Anthropic protocol emulator (SSE streaming, streamed tool_use), with retrieval, tools and failures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select

from tests.call.helpers import answers_in_record, place_call, runtime_with, spoken_by_agent, squash
from tests.conftest import make_settings
from voiceagent.emulators.anthropic_messages import AnthropicEmulator, serve
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import local_server, simulate_call
from voiceagent.storage import Appointment, Database, SupportTicket

pytestmark = pytest.mark.realtime  # every test here places a real-time call


@pytest.fixture
async def emulator():
    emulator = AnthropicEmulator(first_token_ms=400)
    runner, url = await serve(emulator)
    emulator.url = url
    yield emulator
    await runner.cleanup()


@pytest.fixture
def cloud_runtime(runtime, tmp_path, emulator):
    settings = make_settings(tmp_path, anthropic_api_key="test-key", anthropic_base_url=emulator.url)
    database = Database(f"sqlite:///{tmp_path / 'cloud.db'}")
    database.create_all()
    return runtime_with(runtime, settings, database=database)


async def call(cloud_runtime, caller_voice, lines):
    return await place_call(cloud_runtime, caller_voice, lines)


async def test_faq_answer_and_a_streamed_tool_call_through_claude(cloud_runtime, caller_voice, emulator):
    report = await call(cloud_runtime, caller_voice, ["How much is the Business plan?", "Can I talk to a person?"])
    spoken = squash(" ".join(report.agent_texts))
    assert "byteai" in squash(report.greeting)  # the plan's greeting, spoken verbatim
    assert "299" in spoken, report.agent_texts  # answered from the retrieved FAQ entry
    assert "specialist" in spoken, report.agent_texts  # the tool's result, spoken after the tool ran
    first = emulator.requests[0]
    assert first["stream"] is True and first["model"] == "claude-sonnet-4-6"
    assert {tool["name"] for tool in first["tools"]} == {"book_appointment", "check_appointment", "escalate_to_human",
                                                         "end_call"}
    assert "Relevant FAQ" in json.dumps(first["messages"]) and "$299" in json.dumps(first["messages"])
    assert "cache_control" in json.dumps(first.get("system", "")) + json.dumps(first["tools"])
    tool_results = [
        part
        for request in emulator.requests
        for message in request["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part.get("type") == "tool_result"
    ]
    assert tool_results and "ticket" in json.dumps(tool_results[0])
    with cloud_runtime.database.session() as session:
        assert session.scalars(select(SupportTicket)).one().callback_phone == "+15550100"


async def test_an_overloaded_llm_is_retried_then_recovers(cloud_runtime, caller_voice, emulator):
    emulator.faults.fail_next, emulator.faults.status = 1, 529
    report = await call(cloud_runtime, caller_voice, ["How much is the Pro plan?"])
    assert "99" in "".join(await answers_in_record(cloud_runtime, report))
    assert len(emulator.requests) == 2  # the 529, then the retry that succeeded


async def test_a_failing_llm_falls_back_and_escalates(cloud_runtime, caller_voice, emulator):
    emulator.faults.fail_next, emulator.faults.status = 10, 529
    report = await call(cloud_runtime, caller_voice, ["How much is the Pro plan?"])
    assert "havingtroubleprocessing" in squash(" ".join(await spoken_by_agent(cloud_runtime, report.result.call_sid))), report.agent_texts
    assert report.replies, report.agent_texts  # and the caller heard a reply
    with cloud_runtime.database.session() as session:
        assert session.scalars(select(SupportTicket)).one().reason.startswith("the assistant could not")


@pytest.fixture
def quick_timeout_runtime(runtime, tmp_path, emulator):
    settings = make_settings(tmp_path, anthropic_api_key="test-key", anthropic_base_url=emulator.url,
                             llm_timeout_secs=2.0)
    database = Database(f"sqlite:///{tmp_path / 'timeout.db'}")
    database.create_all()
    return runtime_with(runtime, settings, database=database)


async def test_an_llm_that_hangs_times_out_then_the_call_goes_on(quick_timeout_runtime, caller_voice, emulator):
    emulator.faults.hang_next = 1
    report = await call(quick_timeout_runtime, caller_voice, ["How much is the Business plan?", "How much is the Pro plan?"])
    said = squash(" ".join(await spoken_by_agent(quick_timeout_runtime, report.result.call_sid)))
    assert "havingtroubleprocessing" in said, report.agent_texts  # after the deadline, not after an hour
    assert len(report.replies) >= 2, report.agent_texts
    assert "99" in (await answers_in_record(quick_timeout_runtime, report))[-1]  # then answered
    assert report.result.turns[0].latency is not None and report.result.turns[0].latency < 15  # 2 s deadline
    with quick_timeout_runtime.database.session() as session:
        assert session.scalars(select(SupportTicket)).one().reason.startswith("the assistant could not")


@pytest.mark.parametrize("fault", ["disconnect_next", "malformed_next"])
async def test_a_broken_stream_falls_back_and_the_call_goes_on(cloud_runtime, caller_voice, emulator, fault):
    setattr(emulator.faults, fault, 1)  # dropped mid-answer, or an event whose data is not JSON
    report = await call(cloud_runtime, caller_voice, ["How much is the Business plan?", "How much is the Pro plan?"])
    said = squash(" ".join(await spoken_by_agent(cloud_runtime, report.result.call_sid)))
    assert "havingtroubleprocessing" in said, said  # the fallback line, from the server's record of the call
    assert len(report.replies) >= 2, report.agent_texts  # the caller heard it (and then the answer)...
    assert "99" in (await answers_in_record(cloud_runtime, report))[-1]  # ...and the next turn was answered


async def test_a_tool_call_from_an_interrupted_reply_is_not_run(cloud_runtime, caller_voice, emulator):
    # The model takes its time deciding to book; the caller speaks again 2.5 s after their request (long enough for
    # that turn to end on a loaded machine: at 1.8 s both sentences once became one turn, which booked).
    emulator.tool_delay_ms = 6000
    pause = np.zeros(int(2.5 * 8000), dtype=np.int16)
    # Tuesday, not "tomorrow": on a weekend the booking would fail as closed, whether its tool call ran or not
    booking = caller_voice.say("Please book an appointment for Tuesday at 10 am. My name is Jane Smith.")
    change_of_mind = np.concatenate([pause, caller_voice.say("Actually, wait. How much is the Pro plan?")])
    turns = [CallerTurn(audio=booking, text="book"), CallerTurn(audio=change_of_mind, text="wait", wait_for_agent=False)]
    async with local_server(cloud_runtime, cloud_runtime.settings) as url:
        report = await simulate_call(url, turns, cloud_runtime.speech_models)
    assert "99" in "".join(await answers_in_record(cloud_runtime, report))  # ...the caller spoke again
    assert any("book" in json.dumps(r["messages"]).lower() for r in emulator.requests)  # the booking was asked
    with cloud_runtime.database.session() as session:
        assert session.scalars(select(Appointment)).all() == []  # but its tool call never ran
    results = [part for r in emulator.requests for m in r["messages"] if isinstance(m["content"], list)
               for part in m["content"] if part.get("type") == "tool_result"]
    assert results == [], results  # and no result of it went back to the model


async def test_turns_and_calls_reuse_one_warm_connection_to_the_llm(cloud_runtime, caller_voice, emulator):
    """The connection opened while the greeting plays carries every request, across turns (over httpx's
    5 s idle limit apart) and across calls, so no answer waits for a TCP + TLS handshake."""
    first = await call(cloud_runtime, caller_voice, ["How much is the Pro plan?", "And the Business plan?"])
    second = await call(cloud_runtime, caller_voice, ["How much is the Business plan?"])
    assert "299" in "".join(await answers_in_record(cloud_runtime, first) + await answers_in_record(cloud_runtime, second))
    assert len(emulator.requests) >= 3
    assert len(emulator.peers) == 1, emulator.peers
