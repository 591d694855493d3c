"""What the caller hears when a cloud part fails: LLM errors and time-outs, and turns nobody could transcribe.

Vendor-neutral processors placed around an LLM brain (the offline engine handles both cases itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from loguru import logger
from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    ErrorFrame,
    Frame,
    FunctionCallsStartedFrame,
    InterruptionFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMTextFrame,
    TTSSpeakFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.llm_service import LLMService

from voiceagent.brain.service import EMPTY_TURN_MARKER
from voiceagent.observability.metrics import CallMetrics
from voiceagent.shared.phrases import DID_NOT_CATCH, LLM_FALLBACK, MAX_NOT_UNDERSTOOD

Escalate = Callable[[str], Awaitable[dict]]


class LLMFailureFallback(FrameProcessor):
    """Before the LLM: when it errors, or produces nothing within the deadline, the caller hears a fallback
    and a human is called in (once per call). The SDK's own retries on 429/529 happen inside the deadline."""

    def __init__(self, llm: LLMService, escalate: Escalate, *, timeout_secs: float,
                 metrics: CallMetrics | None = None, **kwargs):
        super().__init__(**kwargs)
        self._llm = llm
        self._call_metrics = metrics  # not `_metrics`: FrameProcessor keeps its own there
        self._escalate = escalate
        self._timeout = timeout_secs
        self._deadline: asyncio.Task | None = None
        self._produced = True  # the latest request produced output
        self._handled = True  # the latest request already fell back
        self._escalated = False
        self.failures = 0

        @llm.event_handler("on_completion_timeout")
        async def _on_timeout(_service):
            await self._fall_back("the language model timed out", cause="timeout")

    def progress(self) -> None:
        """The LLM produced output for the current request (called by the probe after it)."""
        self._produced = True
        self._stop_deadline()

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame) and direction == FrameDirection.DOWNSTREAM:
            self._start_deadline()
        elif isinstance(frame, (InterruptionFrame, EagerEndOfTurnCancelFrame)):
            # The caller barged in, or a speculative answer was withdrawn: that request is abandoned on purpose.
            self._stop_deadline()
            self._produced = self._handled = True
        elif isinstance(frame, ErrorFrame) and direction == FrameDirection.UPSTREAM and frame.processor is self._llm:
            await self._fall_back(frame.error, cause="error")
        await self.push_frame(frame, direction)

    def _start_deadline(self) -> None:
        self._stop_deadline()
        self._produced = self._handled = False
        self._deadline = asyncio.get_running_loop().create_task(self._expire())

    def _stop_deadline(self) -> None:
        if self._deadline and not self._deadline.done() and self._deadline is not asyncio.current_task():
            self._deadline.cancel()
        self._deadline = None

    async def _expire(self) -> None:
        await asyncio.sleep(self._timeout)
        if self._produced or self._handled:
            return
        logger.warning(f"LLM produced nothing in {self._timeout:.0f} s; abandoning the request")
        self._deadline = None
        await self.push_frame(InterruptionFrame(), FrameDirection.DOWNSTREAM)  # cancels the LLM's request
        await self._fall_back("the language model timed out", cause="timeout")

    async def _fall_back(self, reason: str, *, cause: str) -> None:
        if self._handled:
            return  # e.g. the SDK's own time-out after our deadline already answered this request
        self._handled = True
        self._stop_deadline()
        self.failures += 1
        if self._call_metrics is not None:
            self._call_metrics.llm_fallbacks.labels(cause=cause).inc()
            if cause == "timeout":  # a time-out raises no ErrorFrame for the ErrorObserver to count
                self._call_metrics.errors.labels(component="llm").inc()
        logger.warning(f"LLM failed ({self.failures}): {reason[:120]}")
        text = LLM_FALLBACK
        if not self._escalated:
            self._escalated = True
            follow_up = (await self._escalate("the assistant could not process the request")).get("follow_up", "")
            text = f"{LLM_FALLBACK} {follow_up}".strip()
        await self.push_frame(TTSSpeakFrame(text), FrameDirection.DOWNSTREAM)

    async def cleanup(self):
        self._stop_deadline()
        await super().cleanup()


class LLMProgressProbe(FrameProcessor):
    """After the LLM: tells the fallback that the current request produced something."""

    def __init__(self, fallback: LLMFailureFallback, **kwargs):
        super().__init__(**kwargs)
        self._fallback = fallback

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, (LLMTextFrame, FunctionCallsStartedFrame, LLMFullResponseEndFrame)):
            self._fallback.progress()
        await self.push_frame(frame, direction)


class NotHeardGuard(FrameProcessor):
    """Before an LLM: a turn with speech but no transcript (the STT failed or heard nothing usable) gets the
    plan's fixed reply instead of a generation; the third one in a row hands the caller to a human."""

    def __init__(self, escalate: Escalate, **kwargs):
        super().__init__(**kwargs)
        self._escalate = escalate
        self.consecutive = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame) and direction == FrameDirection.DOWNSTREAM:
            messages = frame.context.get_messages()
            if messages and messages[-1].get("content") == EMPTY_TURN_MARKER:
                frame.context.set_messages(messages[:-1])  # the marker is ours; the LLM never sees it
                await self._not_heard()
                return
            self.consecutive = 0
        await self.push_frame(frame, direction)

    async def _not_heard(self) -> None:
        self.consecutive += 1
        if self.consecutive < MAX_NOT_UNDERSTOOD:
            await self.push_frame(TTSSpeakFrame(DID_NOT_CATCH), FrameDirection.DOWNSTREAM)
            return
        self.consecutive = 0
        result = await self._escalate("the caller could not be understood three times")
        await self.push_frame(TTSSpeakFrame(result.get("message") or LLM_FALLBACK), FrameDirection.DOWNSTREAM)
