"""Caller audio stops after the user aggregator, and the agent's audio after the output transport: the brain,
TTS and output never queue the caller's audio, the assistant aggregator and the sink never queue the agent's."""

from __future__ import annotations

import re
from pathlib import Path

import pipecat
from pipecat.frames.frames import (
    BotSpeakingFrame,
    BotStartedSpeakingFrame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStoppedFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import run_test

from voiceagent.call.pipeline import agent_audio_done, bot_speaking_beat_done, caller_audio_done


async def test_caller_audio_goes_no_further_and_everything_else_passes():
    audio = InputAudioRawFrame(audio=bytes(320), sample_rate=8000, num_channels=1)
    agent = OutputAudioRawFrame(audio=bytes(320), sample_rate=8000, num_channels=1)
    down, _ = await run_test(
        caller_audio_done(),
        frames_to_send=[audio, TranscriptionFrame("hello", "caller", "t"), audio, agent,
                        VADUserStoppedSpeakingFrame()],
    )
    # (a system frame such as the VAD's overtakes queued data frames, so order is not compared)
    assert sorted(type(f).__name__ for f in down) == ["OutputAudioRawFrame", "TranscriptionFrame",
                                                      "VADUserStoppedSpeakingFrame"]


async def test_agent_audio_written_to_the_phone_goes_no_further():
    written = TTSAudioRawFrame(audio=bytes(640), sample_rate=8000, num_channels=1)
    caller = InputAudioRawFrame(audio=bytes(320), sample_rate=8000, num_channels=1)
    down, _ = await run_test(agent_audio_done(),
                             frames_to_send=[written, caller, BotSpeakingFrame(), written, TTSStoppedFrame()])
    assert sorted(type(f).__name__ for f in down) == ["InputAudioRawFrame", "TTSStoppedFrame"]


async def test_the_bot_speaking_beat_goes_no_further_upstream_and_the_rest_passes():
    down, up = await run_test(
        bot_speaking_beat_done(),
        frames_to_send=[BotSpeakingFrame(), BotStartedSpeakingFrame(), BotSpeakingFrame()],
        frames_to_send_direction=FrameDirection.UPSTREAM,
        expected_down_frames=None, expected_up_frames=None,
    )
    assert [type(f).__name__ for f in up] == ["BotStartedSpeakingFrame"]
    down, _ = await run_test(bot_speaking_beat_done(), frames_to_send=[BotSpeakingFrame()])
    assert [type(f).__name__ for f in down] == ["BotSpeakingFrame"]  # a downstream one is not stopped here


def test_nothing_in_pipecat_that_a_call_uses_reads_the_bot_speaking_beat():
    # Where Pipecat 1.14 reads BotSpeakingFrame: the worker's idle check (off: idle_timeout_secs=None), the
    # wake-phrase start strategy and the frame logger (neither in a call). A new reader appears here.
    readers = set()
    root = Path(pipecat.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"BotSpeakingFrame\b", text):
            readers.add(str(path.relative_to(root)))
    assert readers == {"frames/frames.py", "transports/base_output.py", "pipeline/worker.py",
                       "turns/user_start/wake_phrase_user_turn_start_strategy.py", "processors/logger.py"}
