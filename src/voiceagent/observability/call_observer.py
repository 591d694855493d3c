"""One observer per call in front of the call's observers.

Pipecat's PipelineWorker gives every observer a queue and a task of its own, and puts each frame's first push (and
each processing event) into every one of those queues: three observers cost three queue puts and three task
wake-ups per frame per processor, 50 frames a second of caller audio included. This one queue hands each event to
the observers in turn, and drops the caller's audio, which none of them reads."""

from __future__ import annotations

from pipecat.frames.frames import InputAudioRawFrame
from pipecat.observers.base_observer import BaseObserver, FramePushed


class CallObserver(BaseObserver):
    """Forwards first pushes of every frame but the caller's audio to `observers`, in order."""

    def __init__(self, *observers: BaseObserver):
        if any(observer.observe_every_push for observer in observers):
            raise ValueError("CallObserver forwards first pushes only")
        super().__init__(observe_every_push=False)
        self.observers = observers

    async def on_push_frame(self, data: FramePushed):
        if isinstance(data.frame, InputAudioRawFrame):
            return
        for observer in self.observers:
            await observer.on_push_frame(data)
