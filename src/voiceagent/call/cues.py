"""Listening cues for an LLM brain: "Let me check that for you..." while a tool or a slow lookup keeps the caller
waiting, so the line is never silent for long (the offline engine says its own cues).

Two vendor-neutral processors around the LLM share one `ListeningCues`: `watch` before retrieval sees each
lookup start, `speaker` after the LLM (before the voice) sees the turn end, the answer, the tool calls and the
lookup's end, and speaks the cue through the voice with a TTSSpeakFrame (a cloud voice replays it from its
phrase cache). The rules, per wait (from the end of the caller's turn to the first words of the answer):
- a tool call (other than ending the call) gets a cue at once, unless the answer already began;
- a lookup still running `cue_after_secs` after the turn ended gets one;
- at most one cue per wait, never once the answer's text or audio has begun; a cue already playing when the
  answer arrives is followed by it (the voice speaks in order).
"""

from __future__ import annotations

import asyncio
import time

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    FunctionCallInProgressFrame,
    InterruptionFrame,
    LLMContextFrame,
    LLMTextFrame,
    TTSSpeakFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voiceagent.shared.frames import RetrievalDoneFrame
from voiceagent.shared.phrases import LISTENING_CUES

NO_CUE_TOOLS = frozenset({"end_call"})  # the closing line was just said: a cue after it would be odd


class ListeningCues:
    """The state of one call's cues, and its two processors (`watch` and `speaker`)."""

    def __init__(self, cue_after_secs: float, phrases: tuple[str, ...] = LISTENING_CUES):
        self.cue_after_secs = cue_after_secs
        self.phrases = phrases
        # The latest search's start (the watch) and the latest search's end (the speaker), monotonic seconds
        self.lookup_started = 0.0
        self.lookup_done = 0.0
        self.said: list[str] = []  # cues spoken in this call, in order
        self.watch = _LookupWatch(self)
        self.speaker = _CueSpeaker(self)


class _LookupWatch(FrameProcessor):
    """Before retrieval: a context on its way to the knowledge search starts a lookup."""

    def __init__(self, cues: ListeningCues, **kwargs):
        super().__init__(**kwargs)
        self._cues = cues

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame) and direction == FrameDirection.DOWNSTREAM:
            self._cues.lookup_started = time.monotonic()
        await self.push_frame(frame, direction)


class _CueSpeaker(FrameProcessor):
    """After the LLM: speaks at most one cue per wait, following the rules in the module docstring."""

    def __init__(self, cues: ListeningCues, **kwargs):
        super().__init__(**kwargs)
        self._cues = cues
        self._waiting = False  # the caller's turn ended and the answer has not begun
        self._answered = False  # this turn's answer has begun (text or audio)
        self._cued = False
        self._bot_speaking = False
        self._timer: asyncio.Task | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, (UserStartedSpeakingFrame, InterruptionFrame)):
            self._answered = self._waiting = False
            await self._stop_timer()
        elif isinstance(frame, UserStoppedSpeakingFrame):
            if not self._answered:
                self._waiting, self._cued = True, False
                await self._stop_timer()
                self._timer = self.create_task(self._cue_if_still_looking())
        elif isinstance(frame, RetrievalDoneFrame):
            self._cues.lookup_done = time.monotonic()
        elif isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
        elif isinstance(frame, (LLMTextFrame, TTSSpeakFrame)) and frame.text.strip():
            await self._answer_began()
        elif isinstance(frame, FunctionCallInProgressFrame) and direction == FrameDirection.DOWNSTREAM:
            if frame.function_name not in NO_CUE_TOOLS:
                await self._cue(direction)
        await self.push_frame(frame, direction)

    async def _answer_began(self) -> None:
        self._answered, self._waiting = True, False
        await self._stop_timer()

    async def _cue_if_still_looking(self) -> None:
        await asyncio.sleep(self._cues.cue_after_secs)
        self._timer = None
        if self._cues.lookup_started > self._cues.lookup_done:  # the search is still running
            await self._cue(FrameDirection.DOWNSTREAM)

    async def _cue(self, direction: FrameDirection) -> None:
        if not self._waiting or self._cued or self._bot_speaking:
            return
        self._cued = True
        phrase = self._cues.phrases[len(self._cues.said) % len(self._cues.phrases)]
        self._cues.said.append(phrase)
        # Not in the LLM's context: between a tool_use and its result it would break the message order.
        await self.push_frame(TTSSpeakFrame(phrase, append_to_context=False), direction)

    async def _stop_timer(self) -> None:
        if self._timer is not None:
            timer, self._timer = self._timer, None
            if timer is not asyncio.current_task():
                await self.cancel_task(timer)

    async def cleanup(self):
        await self._stop_timer()
        await super().cleanup()
