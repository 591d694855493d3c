"""Calls with an OpenAI-compatible LLM (vLLM, llama.cpp's server, Ollama): Pipecat's OpenAI service and the
official SDK against a local Chat Completions emulator (SSE streaming, streamed tool calls), and its failures."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.call.helpers import answers_in_record, place_call, runtime_with, spoken_by_agent, squash
from tests.conftest import make_settings
from voiceagent.emulators.openai_chat import OpenAIChatEmulator
from voiceagent.emulators.run import serve_app
from voiceagent.storage import Database, SupportTicket


@pytest.fixture
async def emulator():
    emulator = OpenAIChatEmulator(first_token_ms=300)
    runner, url = await serve_app(emulator.app())
    emulator.url = url + "/v1"
    yield emulator
    await runner.cleanup()


@pytest.fixture
def llm_runtime(runtime, tmp_path, emulator):
    settings = make_settings(tmp_path, openai_llm_model="llama-3.1-8b-instruct", openai_llm_base_url=emulator.url,
                             openai_llm_api_key="test-key")
    assert settings.resolved_provider("llm") == "openai" and settings.resolved_provider("embeddings") == "embedded"
    database = Database(f"sqlite:///{tmp_path / 'openai.db'}")
    database.create_all()
    return runtime_with(runtime, settings, database=database)


@pytest.mark.realtime
async def test_faq_answer_and_a_streamed_tool_call(llm_runtime, caller_voice, emulator):
    report = await place_call(llm_runtime, caller_voice, ["How much is the Business plan?", "Can I talk to a person?"])
    spoken = squash(" ".join(report.replies))
    assert "299" in spoken and "specialist" in spoken, report.agent_texts
    first = emulator.requests[0]
    assert first["stream"] is True and first["model"] == "llama-3.1-8b-instruct"
    assert {tool["function"]["name"] for tool in first["tools"]} == {
        "book_appointment", "check_appointment", "escalate_to_human", "end_call"}
    assert "Relevant FAQ" in json.dumps(first["messages"]) and "$299" in json.dumps(first["messages"])
    tool_messages = [m for r in emulator.requests for m in r["messages"] if m.get("role") == "tool"]
    assert tool_messages and "ticket" in tool_messages[0]["content"]
    with llm_runtime.database.session() as session:
        assert session.scalars(select(SupportTicket)).one().callback_phone == "+15550100"


@pytest.mark.realtime
async def test_a_rate_limited_request_is_retried(llm_runtime, caller_voice, emulator):
    emulator.faults.fail_next, emulator.faults.status = 1, 429
    report = await place_call(llm_runtime, caller_voice, ["How much is the Pro plan?"])
    assert "99" in "".join(await answers_in_record(llm_runtime, report))
    assert len(emulator.requests) == 2


@pytest.mark.realtime
async def test_a_server_that_keeps_failing_falls_back_and_escalates(llm_runtime, caller_voice, emulator):
    emulator.faults.fail_next, emulator.faults.status = 10, 500
    report = await place_call(llm_runtime, caller_voice, ["How much is the Pro plan?"])
    assert "havingtroubleprocessing" in squash(" ".join(await spoken_by_agent(llm_runtime, report.result.call_sid))), report.agent_texts
    assert report.replies, report.agent_texts  # and the caller heard a reply
    with llm_runtime.database.session() as session:
        assert session.scalars(select(SupportTicket)).one().reason.startswith("the assistant could not")


@pytest.mark.realtime
async def test_a_malformed_chunk_falls_back_and_the_call_goes_on(llm_runtime, caller_voice, emulator):
    emulator.faults.malformed_next = 1
    report = await place_call(llm_runtime, caller_voice, ["How much is the Business plan?", "How much is the Pro plan?"])
    assert "havingtroubleprocessing" in squash(" ".join(await spoken_by_agent(llm_runtime, report.result.call_sid))), report.agent_texts
    assert len(report.replies) >= 2, report.agent_texts
    assert "99" in (await answers_in_record(llm_runtime, report))[-1]  # the call went on


def test_the_emulator_speaks_the_chat_completions_wire_format():
    """Non-streaming through the official SDK: the shape a client without streaming sees."""
    import asyncio

    from openai import AsyncOpenAI

    async def main():
        emulator = OpenAIChatEmulator(first_token_ms=0)
        runner, url = await serve_app(emulator.app())
        try:
            client = AsyncOpenAI(api_key="test-key", base_url=url + "/v1", max_retries=0)
            reply = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "Can I talk to a person?"}])
            bad = AsyncOpenAI(api_key="wrong", base_url=url + "/v1", max_retries=0)
            try:
                await bad.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            except Exception as error:  # noqa: BLE001 - the SDK's AuthenticationError
                status = getattr(error, "status_code", None)
            return reply, status
        finally:
            await runner.cleanup()

    reply, status = asyncio.run(main())
    assert reply.choices[0].finish_reason == "tool_calls"
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "escalate_to_human" and json.loads(call.function.arguments)["reason"]
    assert status == 401
