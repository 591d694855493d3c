"""The offline dialog engine behind Pipecat's LLM service interface, so a cloud LLM drops in."""

from __future__ import annotations

from loguru import logger
from pipecat.adapters.llm.services.open_ai_adapter import OpenAILLMAdapter
from pipecat.frames.frames import (
    Frame,
    InputDTMFFrame,
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
from voiceagent.shared.record import CallRecord
from voiceagent.shared.redact import redact_text

# The user aggregator adds this developer message for a turn with no usable transcript.
EMPTY_TURN_MARKER = "[caller turn with no recognizable speech]"


def _text_of(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def last_caller_text(context: LLMContext) -> str | None:
    """The newest caller message ('' for an empty turn), or None when the caller has not spoken."""
    for message in reversed(context.get_messages()):
        role = message.get("role")
        if role == "user":
            return _text_of(message)
        if role in ("developer", "system") and _text_of(message) == EMPTY_TURN_MARKER:
            return ""
        if role == "assistant":
            return None
    return None


def unanswered_caller_text(context: LLMContext) -> str:
    """Caller words before the newest message that got no reply the caller heard (they kept talking).

    Unheard agent speech is removed from the context before the brain, so these are the caller
    messages directly before the newest one.
    """
    earlier: list[str] = []
    for message in reversed(context.get_messages()[:-1]):
        if message.get("role") != "user":
            break
        earlier.insert(0, _text_of(message))
    return " ".join(text for text in earlier if text).strip()


class OfflineBrainService(LLMService):
    """Answers each context the way an LLM service would: start, text pieces, end."""

    # Named here so Pipecat does not import its default adapter lazily during the first call.
    adapter_class = OpenAILLMAdapter

    def __init__(self, engine: DialogEngine, record: CallRecord, **kwargs):
        unused = {name: None for name in LLMSettings.__dataclass_fields__ if not name.startswith("_") and name not in ("model", "extra")}
        super().__init__(settings=LLMSettings(model="offline-dialog-engine", **unused), **kwargs)
        self._engine = engine
        self._record = record
        self._transcript_seen = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self._respond(frame.context)
        elif isinstance(frame, InputDTMFFrame):
            await self._respond_to_keypress(frame.button.value)
        else:
            await self.push_frame(frame, direction)

    def _tell_engine_what_was_not_heard(self) -> None:
        for entry in self._record.transcript[self._transcript_seen:]:
            if entry["role"] == "agent" and entry.get("heard") is False:
                self._engine.forget_unheard(entry["text"])
        self._transcript_seen = len(self._record.transcript)

    async def _respond_to_keypress(self, digit: str) -> None:
        self._record.caller_said(f"[pressed {digit}]")
        await self._speak_all(self._engine.on_keypress(digit))

    async def _respond(self, context: LLMContext) -> None:
        caller_text = last_caller_text(context)
        self._tell_engine_what_was_not_heard()
        if caller_text is None:
            await self._speak_all(None)
            return
        self._record.caller_said(caller_text)
        logger.debug(f"Caller said: {redact_text(caller_text)!r}")
        await self._speak_all(self._engine.respond(caller_text, unanswered_caller_text(context)))

    async def _speak_all(self, utterances) -> None:
        """One LLM-style response: start, a text frame per utterance (the greeting when None), end."""
        await self.push_frame(LLMFullResponseStartFrame())
        await self.start_processing_metrics()
        await self.start_ttfb_metrics()
        try:
            if utterances is None:
                await self._say(self._engine.greeting())
                return
            async for utterance in utterances:
                if utterance.end_call:
                    self._record.closing = True
                self._learn_name()
                await self._say(utterance.text)
        finally:
            await self.stop_processing_metrics()
            await self.push_frame(LLMFullResponseEndFrame())

    def _learn_name(self) -> None:
        """A name the engine heard ("John Smith" given on its own) is masked from before it is read back."""
        booking = self._engine.state.booking
        if booking is not None and booking.name:
            self._record.personal_names.add(booking.name)

    async def _say(self, text: str) -> None:
        await self.stop_ttfb_metrics()
        await self.push_frame(LLMTextFrame(text + " "))
