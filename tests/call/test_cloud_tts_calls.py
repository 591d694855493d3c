"""Calls whose voice is Pipecat's ElevenLabs service against the local multi-stream-input emulator,
and the fallback to the embedded voice when ElevenLabs is down."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect

from tests.call.helpers import place_call, runtime_with, squash
from tests.conftest import make_settings
from voiceagent.emulators.elevenlabs_stream import ElevenLabsEmulator, start


@pytest.fixture
async def emulator(runtime):
    emulator = ElevenLabsEmulator(runtime.speech_models)
    server, url = await start(emulator)
    emulator.url = url
    yield emulator
    server.close()
    await server.wait_closed()


@pytest.fixture
def tts_runtime(runtime, tmp_path, emulator):
    settings = make_settings(tmp_path, elevenlabs_api_key="test-key", elevenlabs_base_url=emulator.url)
    return runtime_with(runtime, settings)


async def call(tts_runtime, caller_voice, lines):
    return await place_call(tts_runtime, caller_voice, lines)


@pytest.mark.realtime
async def test_the_agent_speaks_through_elevenlabs(tts_runtime, caller_voice, emulator):
    report = await call(tts_runtime, caller_voice, ["How much is the Pro plan?"])
    assert "byteai" in squash(report.greeting), report.agent_texts
    assert "99" in squash(" ".join(report.replies)), report.agent_texts
    texts = [m for m in emulator.messages if m.get("text", "").strip()]
    assert texts and all(m.get("context_id") for m in texts)
    assert any("99 dollars" in m["text"] for m in texts)  # the speakable form went to the vendor


@pytest.mark.parametrize("fault", [{"refuse_connections": True}, {"reject_status": 429},
                                   {"disconnect_after_audio": 2}], ids=["outage", "rate-limited", "dropped-mid-reply"])
@pytest.mark.realtime
async def test_when_elevenlabs_fails_the_embedded_voice_takes_over(tts_runtime, caller_voice, emulator, fault):
    for name, value in fault.items():
        setattr(emulator, name, value)
    report = await call(tts_runtime, caller_voice, ["How much is the Pro plan?", "How much is the Business plan?"])
    spoken = squash(" ".join(report.replies))
    assert "299" in spoken, report.agent_texts  # the call goes on and the caller keeps hearing answers


async def test_each_audio_message_carries_the_characters_it_voices(emulator):
    """As the vendor does: alignment restarts at zero per message and the sentence's characters come once, in order."""
    sentence = "Your appointment is on Tuesday, December first, at ten thirty in the morning."
    async with connect(f"{emulator.url}/v1/text-to-speech/voice/multi-stream-input?output_format=ulaw_8000",
                       additional_headers={"xi-api-key": "test-key"}) as ws:
        await ws.send(json.dumps({"text": " ", "context_id": "c1"}))
        await ws.send(json.dumps({"text": sentence + " ", "context_id": "c1", "flush": True}))
        await ws.send(json.dumps({"context_id": "c1", "close_context": True}))
        replies = []
        while not (replies and replies[-1].get("isFinal")):
            replies.append(json.loads(await ws.recv()))
    audio = [r for r in replies if r.get("audio")]
    aligned = [r["alignment"] for r in audio if r.get("alignment")]
    assert len(audio) > 3 and len(aligned) == len(audio)
    assert "".join("".join(a["chars"]) for a in aligned).replace(" ", "") == sentence.replace(" ", "")
    for a in aligned:
        assert a["charStartTimesMs"][0] == 0 and a["charStartTimesMs"] == sorted(a["charStartTimesMs"])
        assert len(a["chars"]) == len(a["charStartTimesMs"]) == len(a["charDurationsMs"])
