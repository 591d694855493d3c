"""Calls with the cloud LLM path: Pipecat's Anthropic service and the official SDK against the local
Anthropic protocol emulator (SSE streaming, streamed tool_use), with retrieval, tools and failures."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.call.helpers import place_call, runtime_with, squash
from tests.conftest import make_settings
from voiceagent.emulators.anthropic_messages import AnthropicEmulator, serve
from voiceagent.storage import Database, SupportTicket


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
    assert "byteai" in squash(report.agent_texts[0])  # the plan's greeting, spoken verbatim
    assert "299" in spoken, report.agent_texts  # answered from the retrieved FAQ entry
    assert "specialist" in spoken, report.agent_texts  # the tool's result, spoken after the tool ran
    first = emulator.requests[0]
    assert first["stream"] is True and first["model"] == "claude-sonnet-4-5"
    assert {tool["name"] for tool in first["tools"]} == {"book_appointment", "check_appointment", "escalate_to_human"}
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
    assert "99" in squash(" ".join(report.agent_texts[1:])), report.agent_texts
    assert len(emulator.requests) == 2  # the 529, then the retry that succeeded


async def test_a_failing_llm_falls_back_and_escalates(cloud_runtime, caller_voice, emulator):
    emulator.faults.fail_next, emulator.faults.status = 10, 529
    report = await call(cloud_runtime, caller_voice, ["How much is the Pro plan?"])
    spoken = squash(" ".join(report.agent_texts[1:]))
    assert "havingtroubleprocessing" in spoken, report.agent_texts
    with cloud_runtime.database.session() as session:
        assert session.scalars(select(SupportTicket)).one().reason.startswith("the assistant could not")
