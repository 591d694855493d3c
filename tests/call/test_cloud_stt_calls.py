"""Calls heard by Pipecat's Deepgram service through the deepgram SDK, against the local live-STT emulator."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_settings
from voiceagent.emulators.deepgram_live import DeepgramEmulator, start
from voiceagent.runtime import AgentRuntime
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import local_server, simulate_call


def squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@pytest.fixture
async def emulator(runtime):
    emulator = DeepgramEmulator(runtime.speech_models)
    server, url = await start(emulator)
    emulator.url = url
    yield emulator
    server.close()
    await server.wait_closed()


@pytest.fixture
def stt_runtime(runtime, tmp_path, emulator):
    settings = make_settings(tmp_path, deepgram_api_key="test-key", deepgram_base_url=emulator.url)
    return AgentRuntime(settings=settings, turn_models=runtime.turn_models, speech_models=runtime.speech_models,
                        database=runtime.database, knowledge=runtime.knowledge)


async def call(stt_runtime, caller_voice, lines):
    turns = [CallerTurn(audio=caller_voice.say(line), text=line) for line in lines]
    async with local_server(stt_runtime, stt_runtime.settings) as url:
        return await simulate_call(url, turns, stt_runtime.speech_models)


async def test_the_caller_is_heard_through_deepgram(stt_runtime, caller_voice, emulator):
    report = await call(stt_runtime, caller_voice, ["How much does the Business plan cost?"])
    assert "299" in squash(" ".join(report.agent_texts[1:])), report.agent_texts
    assert emulator.connections >= 1


async def test_a_dropped_deepgram_socket_reconnects_and_the_call_goes_on(stt_runtime, caller_voice, emulator):
    emulator.drop_after_audio_secs = 3.0  # drops during the greeting, before the caller speaks
    report = await call(stt_runtime, caller_voice, ["How much does the Pro plan cost?"])
    assert emulator.connections >= 2
    assert "99" in squash(" ".join(report.agent_texts[1:])), report.agent_texts
