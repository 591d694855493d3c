"""The LLM emulators' scripted policy for the call flow, through the official SDKs (no phone call): a caller
taking leave gets the closing line then end_call, as a model given the system prompt would; the result of
end_call gets nothing more; a caller who speaks after a tool ran is answered; slow_tool_ms delays the answer
to a tool result."""

from __future__ import annotations

import json
import time

import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from voiceagent.brain.prompt import system_prompt
from voiceagent.emulators.anthropic_messages import AnthropicEmulator, decide, serve
from voiceagent.emulators.openai_chat import OpenAIChatEmulator
from voiceagent.emulators.run import serve_app

SYSTEM = system_prompt("ByteAI")
END_CALL = {"name": "end_call", "description": "End the phone call.", "input_schema": {"type": "object", "properties": {}}}


@pytest.fixture
async def claude():
    emulator = AnthropicEmulator(first_token_ms=0, jitter=0)
    runner, url = await serve(emulator)
    yield emulator, AsyncAnthropic(api_key="test-key", base_url=url, max_retries=0)
    await runner.cleanup()


@pytest.fixture
async def chat():
    emulator = OpenAIChatEmulator(first_token_ms=0, jitter=0)
    runner, url = await serve_app(emulator.app())
    yield emulator, AsyncOpenAI(api_key="test-key", base_url=url + "/v1", max_retries=0)
    await runner.cleanup()


@pytest.mark.parametrize("said", ["Goodbye!", "No, thanks, bye.", "That's all, thank you."])
async def test_claude_says_the_closing_line_then_calls_end_call(claude, said):
    _, client = claude
    async with client.messages.stream(model="claude-sonnet-4-6", max_tokens=300, system=SYSTEM, tools=[END_CALL],
                                      messages=[{"role": "user", "content": said}]) as stream:
        message = await stream.get_final_message()
    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert message.content[0].text == "Thanks for calling ByteAI. Have a great day!"
    assert message.content[1].name == "end_call" and message.content[1].input == {}
    assert message.stop_reason == "tool_use"


async def test_claude_adds_nothing_after_end_call_but_answers_a_caller_who_goes_on(claude):
    _, client = claude
    ended = [{"role": "user", "content": "Bye."},
             {"role": "assistant", "content": [{"type": "text", "text": "Thanks for calling ByteAI."},
                                               {"type": "tool_use", "id": "toolu_1", "name": "end_call", "input": {}}]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                           "content": json.dumps({"ok": True, "ending": True, "message": ""})}]}]
    quiet = await client.messages.create(model="claude-sonnet-4-6", max_tokens=300, system=SYSTEM, messages=ended)
    assert quiet.content == [] and quiet.stop_reason == "end_turn"
    ended[-1]["content"].append({"type": "text", "text": "Relevant FAQ (answer only from these):\nQ: Pro?\n"
                                 "Answer: The Pro plan is $99 per month.\n\nCaller: Oh wait, how much is Pro?"})
    answered = await client.messages.create(model="claude-sonnet-4-6", max_tokens=300, system=SYSTEM, messages=ended)
    assert "$99" in answered.content[0].text


async def test_the_openai_format_ends_the_call_the_same_way(chat):
    _, client = chat
    reply = await client.chat.completions.create(model="m", messages=[
        {"role": "system", "content": SYSTEM}, {"role": "user", "content": "No, thanks, bye."}])
    choice = reply.choices[0]
    assert choice.message.content == "Thanks for calling ByteAI. Have a great day!"
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls[0].function.name == "end_call"
    stream = await client.chat.completions.create(model="m", stream=True, messages=[
        {"role": "system", "content": SYSTEM}, {"role": "user", "content": "Goodbye."}])
    text, calls = "", []
    async for chunk in stream:
        delta = chunk.choices[0].delta
        text += delta.content or ""
        calls += [call.function.name for call in delta.tool_calls or [] if call.function.name]
    assert text == "Thanks for calling ByteAI. Have a great day!" and calls == ["end_call"]


async def test_slow_tool_ms_delays_only_the_answer_to_a_tool_result(chat):
    emulator, client = chat
    emulator.faults.slow_tool_ms = 400
    started = time.monotonic()
    after_tool = await client.chat.completions.create(model="m", messages=[
        {"role": "user", "content": "Book Monday at 10am, my name is Jo."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "book_appointment", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"ok": True, "message": "Booked."})}])
    assert time.monotonic() - started >= 0.4  # the fault's own sleep (a lower bound, not a measured latency)
    assert after_tool.choices[0].message.content.startswith("Booked.")


def test_the_claude_emulator_books_a_request_whose_name_came_in_the_next_turn():
    # A pause between "Please book ... Monday at 10 am." and "My name is Jane Smith." ended the turn on a loaded
    # machine: a model reading the conversation books it, and so does the emulator; a turn about something else
    # ("actually, how much is the Pro plan?") does not.
    first = {"role": "user", "content": [{"type": "text", "text": "Caller: Please book an appointment for Monday at 10 am."}]}
    reply = {"role": "assistant", "content": [{"type": "text", "text": "Sure, what's your name?"}]}
    booked = decide({"messages": [first, reply, {"role": "user", "content": "My name is Jane Smith."}]})
    assert booked[0]["name"] == "book_appointment" and booked[0]["input"] == {"date": "monday", "time": "10 am.",
                                                                                "name": "Jane Smith"}
    other = decide({"messages": [first, reply, {"role": "user", "content": "Actually, how much is the Pro plan?"}]})
    assert not any(part.get("name") == "book_appointment" for part in other)
