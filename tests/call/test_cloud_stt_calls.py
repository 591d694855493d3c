"""Calls heard by Pipecat's Deepgram service through the deepgram SDK, against the local live-STT emulator."""

from __future__ import annotations

import pytest

from tests.call.helpers import place_call, runtime_with, squash
from tests.conftest import make_settings
from voiceagent.emulators.deepgram_live import DeepgramEmulator, start


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
    return runtime_with(runtime, settings)


async def call(stt_runtime, caller_voice, lines):
    return await place_call(stt_runtime, caller_voice, lines)


async def test_the_caller_is_heard_through_deepgram(stt_runtime, caller_voice, emulator):
    report = await call(stt_runtime, caller_voice, ["How much does the Business plan cost?"])
    assert "299" in squash(" ".join(report.agent_texts[1:])), report.agent_texts
    assert emulator.connections >= 1


async def test_a_dropped_deepgram_socket_reconnects_and_the_call_goes_on(stt_runtime, caller_voice, emulator):
    emulator.drop_after_audio_secs = 3.0  # drops during the greeting, before the caller speaks
    report = await call(stt_runtime, caller_voice, ["How much does the Pro plan cost?"])
    assert emulator.connections >= 2
    assert "99" in squash(" ".join(report.agent_texts[1:])), report.agent_texts
