"""The idle check of every brain: when neither side has spoken for a while, ask once, then say goodbye.

Pipecat's user aggregator times the silence (its `user_idle_timeout`, half of IDLE_HANGUP_SECS: the timer runs
from the end of the agent's speech, and stops while anyone speaks or a tool runs). The first time it runs out the
agent asks "Are you still there?"; the second time, with no word from the caller in between, it says goodbye
and marks the call as closing, so HangupAfterClosing hangs up as after any closing line (and a caller who
speaks then keeps the call).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loguru import logger
from pipecat.frames.frames import Frame, TTSSpeakFrame
from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregator

from voiceagent.shared.phrases import IDLE_GOODBYE, STILL_THERE
from voiceagent.shared.record import CallRecord


class IdleCheck:
    """Asks "are you still there?" at the first idle timeout, says goodbye and closes the call at the second."""

    def __init__(self, record: CallRecord, business: str, speak: Callable[[Frame], Awaitable[None]]):
        self._record = record
        self._business = business
        self._speak = speak
        self.asked = False

    def caller_spoke(self) -> None:
        self.asked = False

    async def on_idle(self) -> None:
        if self._record.closing:
            return  # already saying goodbye
        if not self.asked:
            self.asked = True
            await self._speak(TTSSpeakFrame(STILL_THERE))
            return
        logger.info("Nobody has spoken for a while: saying goodbye")
        self._record.closing = True
        await self._speak(TTSSpeakFrame(IDLE_GOODBYE.format(business=self._business)))


def watch_idle(aggregator: LLMUserAggregator, record: CallRecord, business: str) -> IdleCheck:
    """Hook an IdleCheck to the user aggregator's idle and turn-start events (the timeout is in its params)."""
    check = IdleCheck(record, business, aggregator.push_frame)

    @aggregator.event_handler("on_user_turn_idle")
    async def _idle(_aggregator):
        await check.on_idle()

    @aggregator.event_handler("on_user_turn_started")
    async def _caller_spoke(_aggregator, _strategy):
        check.caller_spoke()

    return check
