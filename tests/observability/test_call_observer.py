"""The call's one observer hands every first push but the caller's audio to the call's observers, in order."""

from __future__ import annotations

import pytest
from pipecat.frames.frames import InputAudioRawFrame, TextFrame, TTSAudioRawFrame
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voiceagent.observability.call_observer import CallObserver


class Seen(BaseObserver):
    def __init__(self, log: list, name: str, every: bool = False):
        super().__init__(observe_every_push=every)
        self.log, self.label = log, name

    async def on_push_frame(self, data: FramePushed):
        self.log.append((self.label, type(data.frame).__name__))


def pushed(frame) -> FramePushed:
    source = FrameProcessor()
    return FramePushed(source=source, destination=source, frame=frame, direction=FrameDirection.DOWNSTREAM,
                       timestamp=0)


async def test_each_observer_gets_every_frame_but_the_callers_audio_in_order():
    log: list = []
    observer = CallObserver(Seen(log, "latency"), Seen(log, "usage"))
    for frame in (InputAudioRawFrame(audio=b"\0" * 640, sample_rate=8000, num_channels=1), TextFrame("hi"),
                  TTSAudioRawFrame(audio=b"\0" * 320, sample_rate=8000, num_channels=1)):
        await observer.on_push_frame(pushed(frame))
    assert log == [("latency", "TextFrame"), ("usage", "TextFrame"),
                   ("latency", "TTSAudioRawFrame"), ("usage", "TTSAudioRawFrame")]


def test_an_observer_that_wants_every_push_is_refused():
    with pytest.raises(ValueError):
        CallObserver(Seen([], "every", every=True))
