"""Per-turn latency bookkeeping: watches frames as they move and stamps each stage of a turn."""

from __future__ import annotations

import time

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.frame_processor import FrameDirection

from voiceagent.observability.metrics import CallMetrics
from voiceagent.shared.frames import PlaybackMarkEchoFrame, RetrievalDoneFrame
from voiceagent.shared.record import CallRecord, TurnTiming

STAGES = ("stt_final", "end_of_turn", "retrieval_done", "brain_first_text", "tts_text_sent", "tts_first_audio",
          "first_audio_sent")  # in the order a turn goes through them; each is timed from the end of speech


class TurnLatencyObserver(BaseObserver):
    """Fills the call record's turn timings and the latency histograms."""

    def __init__(self, record: CallRecord, metrics: CallMetrics | None, vad_stop_secs: float):
        super().__init__(observe_every_push=False)  # each frame once, when first pushed: not once per processor
        self._record = record
        self._metrics = metrics
        self._vad_stop_secs = vad_stop_secs
        self._turn: TurnTiming | None = None
        self._answered: TurnTiming | None = None  # the last turn whose reply is playing: marks say when it ends
        self._seen: set[int] = set()
        self._early_retrieval: float | None = None  # retrieval for a speculative answer, before the VAD stop
        self._retrieval_guessed = False  # the turn's retrieval stage came from it (a later retrieval replaces it)

    async def on_push_frame(self, data: FramePushed):
        frame = data.frame
        now = time.monotonic()
        if isinstance(frame, PlaybackMarkEchoFrame) and self._answered is not None:
            self._answered.heard_end = now
            return
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            # The same frame is pushed through several processors (and broadcast both ways).
            if data.direction != FrameDirection.DOWNSTREAM or frame.id in self._seen:
                return
            self._seen = {frame.id}
            # VAD reports the stop only after `stop_secs` of silence: speech ended that long ago.
            self._turn = TurnTiming(caller_speech_end=now - self._vad_stop_secs)
            self._answered, self._retrieval_guessed = None, False
            if self._early_retrieval is not None:  # a speculative answer started before the stop: done by then
                self._turn.retrieval_done = max(self._early_retrieval, self._turn.caller_speech_end)
                self._early_retrieval, self._retrieval_guessed = None, True
            return
        if isinstance(frame, VADUserStartedSpeakingFrame):
            self._early_retrieval = None
        turn = self._turn
        if turn is None:
            if isinstance(frame, RetrievalDoneFrame):
                self._early_retrieval = now
            return
        if isinstance(frame, TranscriptionFrame) and turn.stt_final is None:
            turn.stt_final = now
        elif isinstance(frame, UserStoppedSpeakingFrame) and turn.end_of_turn is None:
            turn.end_of_turn = now
        elif isinstance(frame, RetrievalDoneFrame) and (turn.retrieval_done is None or self._retrieval_guessed):
            turn.retrieval_done, self._retrieval_guessed = now, False
        elif isinstance(frame, LLMTextFrame) and turn.brain_first_text is None:
            turn.brain_first_text = now
        elif isinstance(frame, TTSStartedFrame) and turn.tts_text_sent is None:
            turn.tts_text_sent = now
        elif isinstance(frame, TTSAudioRawFrame) and turn.tts_first_audio is None:
            turn.tts_first_audio = now
        elif isinstance(frame, BotStartedSpeakingFrame) and turn.first_audio_sent is None:
            turn.first_audio_sent = now
            self._finish(turn)

    def _finish(self, turn: TurnTiming) -> None:
        self._record.turns.append(turn)
        self._turn, self._answered = None, turn
        if not self._metrics or turn.caller_speech_end is None:
            return
        latency = turn.response_latency
        if latency is not None:
            self._metrics.response_latency.observe(latency)
        for stage in STAGES:
            stamp = getattr(turn, stage)
            if stamp is not None:
                self._metrics.stage_latency.labels(stage=stage).observe(max(0.0, stamp - turn.caller_speech_end))
