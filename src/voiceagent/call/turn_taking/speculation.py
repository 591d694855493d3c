"""Speculative generation: an LLM brain starts answering while the end of the caller's turn is still uncertain.

When the VAD reports silence and the turn model says the sentence sounds complete, the words heard so far (the
final transcripts of this turn plus the latest interim one) are a good guess at what the caller said. The LLM
starts on that guess at once instead of waiting for the STT's final result. Pipecat 1.14's speculation gate in
the LLM service holds the response until the turn really ends; then it is kept when the committed transcript
matches the guess (ignoring case and punctuation) and thrown away otherwise, in which case the LLM runs again
on the committed words. When the caller goes on speaking, the guess is withdrawn and the generation stopped.
A speculative generation that wants a tool is withdrawn by Pipecat before the tool runs, so a guess never books.

The guess can come earlier still: once the caller's audio has been quiet for `early_guess_quiet_secs` and a transcript
that arrived during that quiet does not trail off (no dangling last word as in "And what about", no "..." or
cut-off word), the LLM starts before the VAD has even reported the stop. Punctuation is not required: an STT
leaves short or last-heard words unpunctuated as often as not ("Goodbye"), and the quiet is the stronger sign.
A wrong guess costs an LLM request, never an answer: if loud audio comes back before the VAD stops, the guess is
withdrawn at once; if the turn model calls the sentence unfinished, the guess waits (held, not spoken) for the
turn's real end and is kept only if the words still match.
"""

from __future__ import annotations

import asyncio
import time

from loguru import logger
from pipecat.frames.frames import EagerEndOfTurnCancelFrame, Frame, InterimTranscriptionFrame, TranscriptionFrame
from pipecat.turns.types import ProcessFrameResult, UserTurnSpeculation
from pipecat.turns.user_stop.eager_match_policy import NormalizedMatch
from pipecat.utils.string import TextPartForConcatenation, concatenate_aggregated_text

from voiceagent.call.turn_taking.sentences import trails_off
from voiceagent.call.turn_taking.streaming_stop import StreamingTranscriptTurnStop


class SpeculativeTurnStopStrategy(StreamingTranscriptTurnStop):
    """The turn model's end-of-turn decision, plus a speculative answer on the words heard so far."""

    def __init__(self, *, speculation_timeout: float = 5.0, **kwargs):
        super().__init__(**kwargs)
        self._match = NormalizedMatch()
        self._speculation_timeout = speculation_timeout
        self._finals: list[TextPartForConcatenation] = []  # this turn's final transcripts, as the aggregator joins them
        self._interim = ""  # the latest interim transcript after the last final
        self._heard_at = 0.0  # wall-clock time the latest transcript arrived
        self._speech_end_at = 0.0  # wall-clock time the caller went quiet (VAD stop minus its silence window)
        self._speculation: UserTurnSpeculation | None = None
        self._speculation_timer: asyncio.Task | None = None
        self._early = False  # the pending guess was made before the VAD reported the stop
        self.started = self.kept = self.discarded = 0  # counts, for logs and the bench

    def _heard_so_far(self) -> str:
        parts = list(self._finals)
        if self._interim:
            parts.append(TextPartForConcatenation(self._interim, includes_inter_part_spaces=False))
        return concatenate_aggregated_text(parts).strip()

    def _committed(self) -> str:
        return concatenate_aggregated_text(self._finals).strip()

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, TranscriptionFrame) and frame.text.strip():
            self._finals.append(TextPartForConcatenation(
                frame.text, includes_inter_part_spaces=frame.includes_inter_frame_spaces))
            self._interim, self._heard_at = "", time.time()
        elif isinstance(frame, InterimTranscriptionFrame) and frame.text.strip():
            self._interim, self._heard_at = frame.text, time.time()
        elif isinstance(frame, EagerEndOfTurnCancelFrame) and await self._take_speculation():
            self.discarded += 1  # the LLM withdrew it (it wanted a tool): the turn's end answers normally
        result = await super().process_frame(frame)
        if isinstance(frame, (TranscriptionFrame, InterimTranscriptionFrame)):
            await self._maybe_speculate()
        return result

    async def _handle_vad_user_stopped_speaking(self, frame):
        self._speech_end_at = frame.timestamp - frame.stop_secs
        await super()._handle_vad_user_stopped_speaking(frame)
        await self._maybe_speculate()

    async def _on_loud(self) -> None:
        if self._speculation and self._early and self._vad_user_speaking:
            await self._withdraw("the caller went on speaking")

    async def _on_quiet(self) -> None:
        quiet_enough = self._quiet.quiet_secs >= self._thresholds.early_guess_quiet_secs
        if self._vad_user_speaking and quiet_enough and not self._speculation:
            await self._maybe_speculate()

    async def _maybe_speculate(self) -> None:
        """Guess now if the turn is open and either (a) the VAD reported silence and the turn model calls the
        sentence complete, or (b) before the VAD's stop, the caller's audio has been quiet for `early_guess_quiet_secs`
        and the words do not trail off; in both, the latest transcript must have come after the
        caller went quiet (one from mid-sentence misses the last words)."""
        early = self._vad_user_speaking and self._quiet.quiet_secs >= self._thresholds.early_guess_quiet_secs
        if not early and (self._vad_user_speaking or not self._vad_stopped or not self._turn_complete):
            return
        if self._heard_at < (self._quiet.quiet_since if early else self._speech_end_at):
            return
        text = self._heard_so_far()
        if not text or (self._speculation and self._match.matches(self._speculation.text, text)):
            return
        if early and trails_off(text):
            return
        if self._speculation:  # newer words changed the guess
            await self._withdraw("the transcript changed")
        self._speculation, self._early = UserTurnSpeculation(text=text), early
        self.started += 1
        self._speculation_timer = self.task_manager.create_task(
            self._expire(self._speculation), f"{self}::speculation_timeout")
        logger.debug(f"{self}: answering speculatively ({len(text)} characters heard"
                     f"{', before the VAD stop' if early else ''})")
        await self.trigger_user_turn_inference_triggered(speculation=self._speculation)

    async def trigger_user_turn_stopped(self, *, enable_user_speaking_frames: bool | None = None):
        speculation = await self._take_speculation()
        if speculation and self._match.matches(speculation.text, self._committed()):
            self.kept += 1
            logger.debug(f"{self}: the turn ended as guessed; keeping the speculative answer")
            await self.trigger_user_turn_finalized(enable_user_speaking_frames=enable_user_speaking_frames,
                                                   confirms_speculation=True)
            return
        if speculation:
            self.discarded += 1
            logger.debug(f"{self}: the turn ended with other words than guessed; answering again")
            await self.trigger_user_turn_speculation_cancelled()
        await super().trigger_user_turn_stopped(enable_user_speaking_frames=enable_user_speaking_frames)

    async def _discard_pending_end_of_turn(self):
        # Runs at turn boundaries and whenever the caller speaks again within the turn.
        await super()._discard_pending_end_of_turn()
        if self._speculation:
            await self._withdraw("the caller went on speaking")

    async def _reset(self):
        await super()._reset()
        self._finals, self._interim = [], ""

    async def _withdraw(self, reason: str) -> None:
        if await self._take_speculation():
            self.discarded += 1
            logger.debug(f"{self}: withdrawing the speculative answer ({reason})")
            await self.trigger_user_turn_speculation_cancelled()

    async def _take_speculation(self) -> UserTurnSpeculation | None:
        speculation, self._speculation, self._early = self._speculation, None, False
        if self._speculation_timer:
            timer, self._speculation_timer = self._speculation_timer, None
            if timer is not asyncio.current_task():
                await self.task_manager.cancel_task(timer)
        return speculation

    async def _expire(self, speculation: UserTurnSpeculation) -> None:
        await asyncio.sleep(self._speculation_timeout)
        if self._speculation is speculation:
            await self._withdraw("the turn stayed open too long")

    async def cleanup(self):
        await self._take_speculation()
        await super().cleanup()
