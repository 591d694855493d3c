"""The embedded STT lets go of its tasks when its call is torn down, even if no EndFrame or CancelFrame reached it
(a stream cut right after `start`): asyncio would otherwise log "Task was destroyed but it is pending!"."""

from __future__ import annotations

import asyncio

from pipecat.clocks.system_clock import SystemClock
from pipecat.frames.frames import StartFrame
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.utils.asyncio.task_manager import TaskManager

from voiceagent.providers.whisper import EmbeddedWhisperSTTService


async def test_cleanup_without_end_or_cancel_stops_the_segment_task(runtime):
    stt = EmbeddedWhisperSTTService(runtime.speech_models)
    tasks = TaskManager(loop=asyncio.get_running_loop())
    await stt.setup(FrameProcessorSetup(clock=SystemClock(), task_manager=tasks, pipeline_worker=None,
                                        audio_in_sample_rate=8000))
    await stt.start(StartFrame(audio_in_sample_rate=8000, audio_out_sample_rate=8000))
    segment_task = stt._segment_task
    assert segment_task is not None and not segment_task.done()

    await stt.cleanup()

    assert segment_task.done()
    assert not [task for task in tasks.current_tasks() if not task.done()]


async def test_a_failed_decode_still_ends_the_turn_with_an_empty_final(runtime, monkeypatch):
    from pipecat.frames.frames import ErrorFrame, TranscriptionFrame

    stt = EmbeddedWhisperSTTService(runtime.speech_models)

    def broken(self, audio):
        raise RuntimeError("decoder crashed")

    monkeypatch.setattr(EmbeddedWhisperSTTService, "_transcribe_pcm", broken)
    stt.start_processing_metrics = stt.stop_processing_metrics = _nothing
    frames = [frame async for frame in stt.run_stt(b"\0" * 3200)]
    assert isinstance(frames[0], ErrorFrame) and "decoder crashed" in frames[0].error
    assert isinstance(frames[1], TranscriptionFrame) and frames[1].text == "" and frames[1].finalized


async def _nothing(*args, **kwargs):
    return None
