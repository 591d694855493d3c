"""The call's one observer hands every first push but the caller's audio to the call's observers, in order, and
the call's worker queues nothing else for it (no processing events, no caller audio)."""

from __future__ import annotations

import asyncio

import pytest
from pipecat.frames.frames import EndFrame, InputAudioRawFrame, TextFrame, TTSAudioRawFrame
from pipecat.observers.base_observer import BaseObserver, FrameProcessed, FramePushed
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.runner import WorkerRunner
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voiceagent.observability.call_observer import CallObserver, CallWorker, PushesOnlyObserver


class Seen(BaseObserver):
    def __init__(self, log: list, name: str, every: bool = False):
        super().__init__(observe_every_push=every)
        self.log, self.label = log, name

    async def on_push_frame(self, data: FramePushed):
        self.log.append((self.label, type(data.frame).__name__))


class PassOn(FrameProcessor):
    async def process_frame(self, frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)


def pushed(frame) -> FramePushed:
    source = FrameProcessor()
    return FramePushed(source=source, destination=source, frame=frame, direction=FrameDirection.DOWNSTREAM,
                       timestamp=0)


async def test_each_observer_gets_every_frame_in_order():
    log: list = []
    observer = CallObserver(Seen(log, "latency"), Seen(log, "usage"))
    for frame in (TextFrame("hi"), TTSAudioRawFrame(audio=b"\0" * 320, sample_rate=8000, num_channels=1)):
        await observer.on_push_frame(pushed(frame))
    assert log == [("latency", "TextFrame"), ("usage", "TextFrame"),
                   ("latency", "TTSAudioRawFrame"), ("usage", "TTSAudioRawFrame")]


def test_an_observer_that_wants_every_push_or_processing_events_is_refused():
    with pytest.raises(ValueError):
        CallObserver(Seen([], "every", every=True))

    class Processing(Seen):
        async def on_process_frame(self, data: FrameProcessed):
            pass

    with pytest.raises(ValueError):
        CallObserver(Processing([], "processing"))


class CountingPuts(PushesOnlyObserver):
    def __init__(self, observers):
        super().__init__(observers=observers)
        self.queued = 0

    async def _send_to_proxy(self, data):
        self.queued += 1
        await super()._send_to_proxy(data)


async def test_the_call_worker_queues_first_pushes_without_the_callers_audio():
    log: list = []
    observer = CallObserver(Seen(log, "latency"))
    worker = CallWorker(Pipeline([PassOn(), PassOn(), PassOn()]), observer=observer,
                        params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000),
                        enable_rtvi=False, enable_turn_tracking=False, idle_timeout_secs=None)
    assert isinstance(worker._observer, PushesOnlyObserver)
    counting = worker._observer = CountingPuts([observer])
    caller_audio = [InputAudioRawFrame(audio=b"\0" * 640, sample_rate=8000, num_channels=1) for _ in range(50)]
    await worker.queue_frames([*caller_audio, TextFrame("hi"), EndFrame()])
    await asyncio.wait_for(WorkerRunner(handle_sigint=False, handle_sigterm=False).run(worker), 20)
    assert ("latency", "TextFrame") in log and ("latency", "InputAudioRawFrame") not in log
    assert counting.queued < 10  # the start signal only: 50 audio frames through 3 processors queued nothing
