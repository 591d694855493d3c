"""The ElevenLabs emulator renders the contexts of one socket side by side, as the vendor's multi-context
socket does: a new reply's first audio does not wait behind the rest of an interrupted one."""

from __future__ import annotations

import json
import time

import numpy as np
from websockets.asyncio.client import connect

from voiceagent.emulators.elevenlabs_stream import ElevenLabsEmulator, start


class SlowVoice:
    """0.2 s of tone per clause, taking 0.3 s of CPU time to make (a busy machine's synthesis)."""

    def synthesize(self, text: str):
        time.sleep(0.3)
        return [((np.sin(np.arange(3200) / 3) * 4000).astype(np.int16).tobytes(), 16000)]


async def test_a_second_context_is_not_held_behind_the_first_and_is_final_follows_the_last_audio():
    emulator = ElevenLabsEmulator(SlowVoice(), first_audio_ms=50)
    server, url = await start(emulator)
    arrivals: list[tuple[str, str, float]] = []  # (context, audio | final, seconds since the first text)
    try:
        async with connect(f"{url}/v1/text-to-speech/voice/multi-stream-input?output_format=pcm_8000",
                           additional_headers={"xi-api-key": "test-key"}) as socket:
            started = time.monotonic()
            await socket.send(json.dumps({"text": "One, two, three, four, five. ", "context_id": "a",
                                          "flush": True}))
            await socket.send(json.dumps({"context_id": "a", "close_context": True}))  # the caller barged in
            await socket.send(json.dumps({"text": "Sure. ", "context_id": "b", "flush": True}))
            while not any(c == "a" and kind == "final" for c, kind, _ in arrivals) or not any(
                    c == "b" for c, _, _ in arrivals):
                message = json.loads(await socket.recv())
                kind = "final" if message.get("isFinal") else "audio"
                arrivals.append((message["contextId"], kind, time.monotonic() - started))
    finally:
        server.close()
    first_b = min(t for c, _, t in arrivals if c == "b")
    a_audio = [t for c, kind, t in arrivals if c == "a" and kind == "audio"]
    a_final = [t for c, kind, t in arrivals if c == "a" and kind == "final"]
    assert len(a_audio) == 5 and len(a_final) == 1
    assert first_b < a_audio[-1]  # "Sure." did not wait for the five clauses of the first reply (~1.5 s)
    assert a_final[0] >= a_audio[-1]  # the closed context's isFinal comes after its last audio
