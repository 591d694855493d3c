"""Speculative generation: an LLM brain starts answering while the end of the caller's turn is still uncertain.

When the VAD reports silence and the turn model says the sentence sounds complete, the words heard so far (the
final transcripts of this turn plus the latest interim one) are a good guess at what the caller said. The LLM
starts on that guess at once instead of waiting for the STT's final result. Pipecat 1.14's speculation gate in
the LLM service holds the response until the turn really ends; then it is kept when the committed transcript
matches the guess (ignoring case and punctuation) and thrown away otherwise, in which case the LLM runs again
on the committed words. When the caller goes on speaking, the guess is withdrawn and the generation stopped.
A speculative generation that wants a tool is withdrawn by Pipecat before the tool runs, so a guess never books.

The guess can come earlier still: once the caller's audio has been quiet for `EARLY_QUIET_SECS` and a transcript
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
from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    Frame,
    InputAudioRawFrame,
    InterimTranscriptionFrame,
    TranscriptionFrame,
)
from pipecat.turns.types import ProcessFrameResult, UserTurnSpeculation
from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_stop.eager_match_policy import NormalizedMatch
from pipecat.utils.string import TextPartForConcatenation, concatenate_aggregated_text

from voiceagent.call.loudness import frame_rms, is_quiet
from voiceagent.call.sentences import trails_off

EARLY_QUIET_SECS = 0.12  # quiet caller audio before the words heard are answered speculatively
SPEAKING_AGAIN_SECS = 0.15  # loud caller audio this recent means the caller is speaking now
FINISHED_SENTENCE_QUIET_SECS = 0.5  # quiet after a final that does not trail off, ending the turn whatever the turn model says
UNTRANSCRIBED_SPEECH_SECS = 0.15  # speech after the last final that makes it stale (its words are still on the way)


class StreamingTranscriptTurnStop(TurnAnalyzerUserTurnStopStrategy):
    """Pipecat's turn-model stop for a streaming STT, which also follows how loud the caller's audio is.

    A final transcript ends the turn as soon as the VAD has stopped and the turn model calls the sentence
    complete. But a final that lands while the caller is speaking again ("Okay, thanks." arriving during
    "Goodbye.") covers only the words before: Pipecat counted it, so the turn ended at the next VAD stop
    before the new words were transcribed, and their late final then started a turn of its own that
    interrupted the answer (the answer was generated twice). Such a final now leaves the turn waiting for the
    final of the new words. The same holds for a final that arrived in a pause the caller then spoke after
    ("Okay," finalised, then "thanks."): once the VAD has heard `UNTRANSCRIBED_SPEECH_SECS` of speech since the
    last final, that final no longer covers the turn, and the turn waits for the next one (or the STT's timeout,
    if the sound held no words).

    The turn model also calls some finished sentences unfinished ("Okay, thanks. Goodbye."), and the turn then
    waits out its whole silence limit (1.2 s). When the VAD has stopped, the last final transcript does not
    trail off, no interim says more words are coming, and the caller's audio has stayed quiet for
    `FINISHED_SENTENCE_QUIET_SECS`, the turn ends. Punctuation is not asked for: an STT leaves a short last
    word unpunctuated as often as not ("Goodbye"), and for one that punctuates every final it would be no
    signal at all. A caller who trails off keeps the turn model's longer wait: on a dangling word ("And what
    about?", "I was wondering if"), an ellipsis or a cut-off word.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._quiet_secs = 0.0  # quiet caller audio since the last loud frame
        self._quiet_since = 0.0  # wall-clock time that quiet began
        self._peak_rms = 0.0  # the caller's loudest speech: "quiet" is relative to their level
        self._speech_since_final = 0.0  # seconds of loud audio, VAD speaking, since the last final transcript

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, InputAudioRawFrame):
            await self._track_quiet(frame)
        return await super().process_frame(frame)

    def _speaking_now(self) -> bool:
        return self._vad_user_speaking and self._quiet_secs < SPEAKING_AGAIN_SECS

    async def _handle_transcription(self, frame: TranscriptionFrame):
        if frame.finalized and self._speaking_now():
            self._text = frame.text  # words from before the caller spoke again: the new words' final ends the turn
            return
        if frame.finalized:
            self._speech_since_final = 0.0
        await super()._handle_transcription(frame)

    async def _maybe_trigger_user_turn_stopped(self):
        if self._transcript_finalized and self._speech_since_final >= UNTRANSCRIBED_SPEECH_SECS:
            self._transcript_finalized = False  # the caller spoke after the last final: its words are still coming
        await super()._maybe_trigger_user_turn_stopped()

    async def _track_quiet(self, frame: InputAudioRawFrame) -> None:
        rms = frame_rms(frame.audio)
        seconds = len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)
        if self._vad_user_speaking:
            self._peak_rms = max(self._peak_rms, rms)
        if not is_quiet(rms, self._peak_rms):
            self._quiet_secs = 0.0
            if self._vad_user_speaking:
                self._speech_since_final += seconds
            await self._on_loud()
            return
        if self._quiet_secs == 0.0:
            self._quiet_since = time.time()
        self._quiet_secs += seconds
        if (self._vad_stopped and not self._vad_user_speaking and not self._turn_complete
                and self._transcript_finalized and not trails_off(self._text)
                and self._quiet_secs >= FINISHED_SENTENCE_QUIET_SECS):
            logger.debug(f"{self}: a final that does not trail off and {self._quiet_secs:.1f} s of quiet end the turn")
            self._turn_complete = True
            await self._maybe_trigger_user_turn_stopped()
        await self._on_quiet()

    async def _on_loud(self) -> None:
        """Caller audio louder than quiet (a subclass may act on it)."""

    async def _on_quiet(self) -> None:
        """Another quiet frame of caller audio (a subclass may act on it)."""


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
        if self._vad_user_speaking and self._quiet_secs >= EARLY_QUIET_SECS and not self._speculation:
            await self._maybe_speculate()

    async def _maybe_speculate(self) -> None:
        """Guess now if the turn is open and either (a) the VAD reported silence and the turn model calls the
        sentence complete, or (b) before the VAD's stop, the caller's audio has been quiet for `EARLY_QUIET_SECS`
        and the words do not trail off; in both, the latest transcript must have come after the
        caller went quiet (one from mid-sentence misses the last words)."""
        early = self._vad_user_speaking and self._quiet_secs >= EARLY_QUIET_SECS
        if not early and (self._vad_user_speaking or not self._vad_stopped or not self._turn_complete):
            return
        if self._heard_at < (self._quiet_since if early else self._speech_end_at):
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
