"""The shared-session Silero VAD decides exactly as Pipecat's own, with fewer hops to its thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self):
        super().__init__(max_workers=1)
        self.jobs = 0

    def submit(self, *args, **kwargs):
        self.jobs += 1
        return super().submit(*args, **kwargs)


async def states(analyzer, audio: np.ndarray) -> list[VADState]:
    analyzer.set_sample_rate(8000)
    analyzer._executor = CountingExecutor()
    frames = [audio[i:i + 160].tobytes() for i in range(0, len(audio) - 159, 160)]  # 20 ms, as Twilio sends
    return [await analyzer.analyze_audio(frame) for frame in frames]


async def test_the_shared_vad_hears_speech_as_pipecats_does_with_fewer_thread_hops(runtime, caller_voice):
    quiet = np.zeros(4000, dtype=np.int16)
    audio = np.concatenate([quiet, caller_voice.say("How much does the Pro plan cost?").astype(np.int16), quiet,
                            caller_voice.say("Thanks.").astype(np.int16), quiet])
    params = VADParams(start_secs=0.2, stop_secs=0.25)
    ours = runtime.turn_models.vad_analyzer(params)
    theirs = SileroVADAnalyzer(params=params)
    heard, expected = await states(ours, audio), await states(theirs, audio)
    assert heard == expected and heard.count(VADState.SPEAKING) > 50  # speech was heard, the same way
    frames = len(heard)
    assert theirs._executor.jobs == frames
    assert ours._executor.jobs < 0.7 * frames  # only frames that complete a 32 ms window run the model there
