"""One observer per call in front of the call's observers, fed only what they read.

Pipecat's PipelineWorker wraps its observers in a WorkerObserver, which gives each one a queue and a task, and puts
into those queues each frame's first push and every processor's processing of every frame: with the caller's audio
arriving up to 25 times a second and passing four processors, that is up to a hundred queue puts and task wake-ups
a second per call for events none of the call's observers reads. `CallWorker` uses a WorkerObserver that drops
them before they are queued (processing events, and the caller's audio), and `CallObserver` hands what is left to
the observers in turn, from one queue."""

from __future__ import annotations

from pipecat.frames.frames import InputAudioRawFrame
from pipecat.observers.base_observer import BaseObserver, FrameProcessed, FramePushed
from pipecat.pipeline.worker import PipelineWorker
from pipecat.pipeline.worker_observer import WorkerObserver


class CallObserver(BaseObserver):
    """Forwards first pushes of every frame but the caller's audio to `observers`, in order."""

    def __init__(self, *observers: BaseObserver):
        if any(observer.observe_every_push for observer in observers):
            raise ValueError("CallObserver forwards first pushes only")
        if any(type(observer).on_process_frame is not BaseObserver.on_process_frame for observer in observers):
            raise ValueError("CallObserver forwards pushes only, not processing events")
        super().__init__(observe_every_push=False)
        self.observers = observers

    async def on_push_frame(self, data: FramePushed):
        for observer in self.observers:
            await observer.on_push_frame(data)


class PushesOnlyObserver(WorkerObserver):
    """A WorkerObserver for observers that read first pushes of frames other than the caller's audio."""

    async def on_process_frame(self, data: FrameProcessed):
        return

    async def on_push_frame(self, data: FramePushed):
        if not isinstance(data.frame, InputAudioRawFrame):
            await super().on_push_frame(data)


class CallWorker(PipelineWorker):
    """A PipelineWorker whose only observer is a CallObserver, reached through a PushesOnlyObserver."""

    def __init__(self, pipeline, *, observer: CallObserver, **kwargs):
        super().__init__(pipeline, observers=[observer], **kwargs)
        # Pipecat 1.14 builds its WorkerObserver in __init__ and offers no way to choose another.
        self._observer = PushesOnlyObserver(observers=[observer])
