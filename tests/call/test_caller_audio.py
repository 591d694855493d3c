"""Caller audio stops after the user aggregator: the brain, TTS and output never queue it."""

from __future__ import annotations

from pipecat.frames.frames import InputAudioRawFrame, TranscriptionFrame, VADUserStoppedSpeakingFrame
from pipecat.tests.utils import run_test

from voiceagent.call.pipeline import CallerAudioDone


async def test_caller_audio_goes_no_further_and_everything_else_passes():
    audio = InputAudioRawFrame(audio=bytes(320), sample_rate=8000, num_channels=1)
    down, _ = await run_test(
        CallerAudioDone(),
        frames_to_send=[audio, TranscriptionFrame("hello", "caller", "t"), audio, VADUserStoppedSpeakingFrame()],
    )
    # (a system frame such as the VAD's overtakes queued data frames, so order is not compared)
    assert sorted(type(f).__name__ for f in down) == ["TranscriptionFrame", "VADUserStoppedSpeakingFrame"]
