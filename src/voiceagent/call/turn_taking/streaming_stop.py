"""Turn end for a streaming STT (interim and final words while the caller speaks), following how loud the
caller's audio is."""

from __future__ import annotations

from loguru import logger
from pipecat.frames.frames import Frame, InputAudioRawFrame, TranscriptionFrame
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy

from voiceagent.call.turn_taking.sentences import trails_off
from voiceagent.config import TurnTaking, default_turn_taking
from voiceagent.shared.audio_level import QuietTracker


class StreamingTranscriptTurnStop(TurnAnalyzerUserTurnStopStrategy):
    """Pipecat's turn-model stop for a streaming STT, which also follows how loud the caller's audio is.

    A final transcript ends the turn as soon as the VAD has stopped and the turn model calls the sentence
    complete. But a final that lands while the caller is speaking again ("Okay, thanks." arriving during
    "Goodbye.") covers only the words before: Pipecat counted it, so the turn ended at the next VAD stop
    before the new words were transcribed, and their late final then started a turn of its own that
    interrupted the answer (the answer was generated twice). Such a final now leaves the turn waiting for the
    final of the new words. The same holds for a final that arrived in a pause the caller then spoke after
    ("Okay," finalised, then "thanks."): once the VAD has heard `untranscribed_speech_secs` of speech since the
    last final, that final no longer covers the turn, and the turn waits for the next one (or the STT's timeout,
    if the sound held no words).

    The turn model also calls some finished sentences unfinished ("Okay, thanks. Goodbye."), and the turn then
    waits out its whole silence limit (1.2 s). When the VAD has stopped, the last final transcript does not
    trail off, no interim says more words are coming, and the caller's audio has stayed quiet for
    `finished_sentence_quiet_secs`, the turn ends. Punctuation is not asked for: an STT leaves a short last
    word unpunctuated as often as not ("Goodbye"), and for one that punctuates every final it would be no
    signal at all. A caller who trails off keeps the turn model's longer wait: on a dangling word ("And what
    about?", "I was wondering if"), an ellipsis or a cut-off word.
    """

    def __init__(self, *, thresholds: TurnTaking | None = None, **kwargs):
        super().__init__(**kwargs)
        self._thresholds = thresholds or default_turn_taking()
        self._quiet = QuietTracker()
        self._speech_since_final = 0.0  # seconds of loud audio, VAD speaking, since the last final transcript

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, InputAudioRawFrame):
            await self._track_quiet(frame)
        return await super().process_frame(frame)

    def _speaking_now(self) -> bool:
        return self._vad_user_speaking and self._quiet.quiet_secs < self._thresholds.speaking_again_secs

    async def _handle_transcription(self, frame: TranscriptionFrame):
        if frame.finalized and self._speaking_now():
            self._text = frame.text  # words from before the caller spoke again: the new words' final ends the turn
            return
        if frame.finalized:
            self._speech_since_final = 0.0
        await super()._handle_transcription(frame)

    async def _maybe_trigger_user_turn_stopped(self):
        if self._transcript_finalized and self._speech_since_final >= self._thresholds.untranscribed_speech_secs:
            self._transcript_finalized = False  # the caller spoke after the last final: its words are still coming
        await super()._maybe_trigger_user_turn_stopped()

    async def _track_quiet(self, frame: InputAudioRawFrame) -> None:
        quiet, seconds = self._quiet.observe(frame.audio, frame.sample_rate, frame.num_channels,
                                             speaking=self._vad_user_speaking)
        if not quiet:
            if self._vad_user_speaking:
                self._speech_since_final += seconds
            await self._on_loud()
            return
        if (self._vad_stopped and not self._vad_user_speaking and not self._turn_complete
                and self._transcript_finalized and not trails_off(self._text)
                and self._quiet.quiet_secs >= self._thresholds.finished_sentence_quiet_secs):
            logger.debug(f"{self}: a final that does not trail off and {self._quiet.quiet_secs:.1f} s of quiet "
                         "end the turn")
            self._turn_complete = True
            await self._maybe_trigger_user_turn_stopped()
        await self._on_quiet()

    async def _on_loud(self) -> None:
        """Caller audio louder than quiet (a subclass may act on it)."""

    async def _on_quiet(self) -> None:
        """Another quiet frame of caller audio (a subclass may act on it)."""
