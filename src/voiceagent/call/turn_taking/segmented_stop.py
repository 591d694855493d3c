"""Turn end for an STT that transcribes whole VAD segments (the embedded Whisper) and finalizes the last one."""

from __future__ import annotations

from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy

from voiceagent.call.turn_taking.sentences import reads_as_finished, trails_off
from voiceagent.config import TurnTaking, default_turn_taking
from voiceagent.shared.audio_level import QuietTracker


class SegmentTranscriptTurnStop(TurnAnalyzerUserTurnStopStrategy):
    """The turn model's decision, for an STT that transcribes VAD segments and always finalizes the last one.

    Pipecat's strategy waits for transcript text: when the caller's last segment was noise (Whisper heard no
    words) it never fires, and the turn would end only at the watchdog, seconds later. A finalized transcript
    is all the words this turn will get, even when it is empty (the brain then asks the caller to repeat).

    Smart-turn also calls some finished sentences unfinished ("...next Tuesday at two in the afternoon."), and
    the turn then waits out its whole silence limit (1.2 s). Whisper ends a sentence it heard finish with a
    full stop or question mark and leaves a trailing-off fragment ("I was wondering") bare, so a final
    transcript that ends a sentence (or reads as a whole question or request without the punctuation, as
    Whisper sometimes writes one: "how much is the pro plan") ends the turn after `finished_sentence_grace_secs` more of quiet caller
    audio (counted in audio, not wall-clock time, and by loudness, since the VAD confirms new speech only
    0.2 s after it starts); any sound of speech before that keeps the turn open as before.

    The other way round, smart-turn calls some pauses mid-sentence finished: a slow caller's "And what about
    [pause] the Business plan?" ended its turn on "and what about", and the agent started answering that. A final
    that trails off (a dangling last word, an ellipsis) holds the model's "finished" for `fragment_hold_secs` of
    caller audio without speech; speech within it continues the turn, and after it the model's verdict stands."""

    def __init__(self, *, thresholds: TurnTaking | None = None, **kwargs):
        super().__init__(**kwargs)
        self._thresholds = thresholds or default_turn_taking()
        self._sentence_finished = False
        self._quiet = QuietTracker()
        self._fragment_secs: float | None = None  # caller audio since a final that trails off, while held

    async def _discard_pending_end_of_turn(self):
        self._sentence_finished = False
        self._fragment_secs = None
        await super()._discard_pending_end_of_turn()

    async def _maybe_trigger_user_turn_stopped(self):
        if self._fragment_secs is None:
            await super()._maybe_trigger_user_turn_stopped()

    async def _handle_transcription(self, frame):
        trailing = frame.finalized and frame.text.strip() and trails_off(frame.text)
        self._fragment_secs = 0.0 if trailing and self._thresholds.fragment_hold_secs > 0 else None
        await super()._handle_transcription(frame)
        if frame.finalized and not self._text:
            self._text = " "  # settled, with no words: the aggregator sees an empty turn
            await self._maybe_trigger_user_turn_stopped()
        elif frame.finalized and reads_as_finished(frame.text):
            self._sentence_finished = True
            self._quiet.restart_quiet()

    async def _handle_input_audio(self, frame):
        await super()._handle_input_audio(frame)
        if self._fragment_secs is not None and not self._vad_user_speaking:
            self._fragment_secs += len(frame.audio) / (2 * frame.sample_rate * frame.num_channels)
            if self._fragment_secs >= self._thresholds.fragment_hold_secs:
                self._fragment_secs = None  # held long enough: the turn model's verdict stands
                await self._maybe_trigger_user_turn_stopped()
        quiet, _ = self._quiet.observe(frame.audio, frame.sample_rate, frame.num_channels,
                                       speaking=self._vad_user_speaking)
        if not self._sentence_finished or self._vad_user_speaking or self._turn_complete or not quiet:
            return  # loud audio is perhaps the start of more words: the VAD's verdict decides
        if self._quiet.quiet_secs >= self._thresholds.finished_sentence_grace_secs:
            self._turn_complete = True
            await self._maybe_trigger_user_turn_stopped()
