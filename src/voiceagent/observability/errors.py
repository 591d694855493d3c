"""Counts the errors a call's services report (Pipecat ErrorFrames) in voiceagent_errors_total, by component."""

from __future__ import annotations

from pipecat.frames.frames import ErrorFrame
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.services.llm_service import LLMService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService

from voiceagent.observability.metrics import ERROR_COMPONENTS

_SERVICES = ((STTService, "stt"), (LLMService, "llm"), (TTSService, "tts"))


def error_component(processor) -> str:
    """The component a processor's error counts against: its service kind; `call` for the call's own processors."""
    declared = getattr(processor, "error_component", None)  # a processor standing for a service says which
    if declared in ERROR_COMPONENTS:
        return declared
    return next((component for kind, component in _SERVICES if isinstance(processor, kind)), "call")


class ErrorObserver(BaseObserver):
    """Counts each ErrorFrame once, against the component of the processor that raised it."""

    def __init__(self, metrics):
        super().__init__(observe_every_push=False)  # when first pushed, not again at every hop upstream
        self._metrics = metrics

    async def on_push_frame(self, data: FramePushed):
        if isinstance(data.frame, ErrorFrame):
            self._metrics.errors.labels(component=error_component(data.frame.processor or data.source)).inc()
