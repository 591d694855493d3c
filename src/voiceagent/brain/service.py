"""The offline dialog engine behind Pipecat's LLM service interface, so a cloud LLM drops in."""

from __future__ import annotations

from pipecat.adapters.llm.services.open_ai_adapter import OpenAILLMAdapter
from pipecat.frames.frames import (
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import LLMService
from pipecat.services.settings import LLMSettings

from voiceagent.brain.dialog import DialogEngine
from voiceagent.call.record import CallRecord

# The user aggregator adds this developer message for a turn with no usable transcript.
EMPTY_TURN_MARKER = "[caller turn with no recognizable speech]"


def last_caller_text(context: LLMContext) -> str | None:
    """The newest caller message ('' for an empty turn), or None when the caller has not spoken."""
    for message in reversed(context.get_messages()):
        role = message.get("role")
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        if role == "user":
            return content or ""
        if role in ("developer", "system") and content == EMPTY_TURN_MARKER:
            return ""
        if role == "assistant":
            return None
    return None


class OfflineBrainService(LLMService):
    """Answers each context the way an LLM service would: start, text pieces, end."""

    # Named here so Pipecat does not import its default adapter lazily during the first call.
    adapter_class = OpenAILLMAdapter

    def __init__(self, engine: DialogEngine, record: CallRecord, **kwargs):
        unused = {name: None for name in LLMSettings.__dataclass_fields__ if not name.startswith("_") and name not in ("model", "extra")}
        super().__init__(settings=LLMSettings(model="offline-dialog-engine", **unused), **kwargs)
        self._engine = engine
        self._record = record

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self._respond(frame.context)
        else:
            await self.push_frame(frame, direction)

    async def _respond(self, context: LLMContext) -> None:
        caller_text = last_caller_text(context)
        await self.push_frame(LLMFullResponseStartFrame())
        await self.start_processing_metrics()
        await self.start_ttfb_metrics()
        try:
            if caller_text is None:
                await self._say(self._engine.greeting())
                return
            self._record.caller_said(caller_text)
            async for utterance in self._engine.respond(caller_text):
                if utterance.end_call:
                    self._record.closing = True
                await self._say(utterance.text)
        finally:
            await self.stop_processing_metrics()
            await self.push_frame(LLMFullResponseEndFrame())

    async def _say(self, text: str) -> None:
        await self.stop_ttfb_metrics()
        await self.push_frame(LLMTextFrame(text + " "))
