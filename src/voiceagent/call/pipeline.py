"""One call = one Pipecat pipeline: phone audio in, turn-taking, STT, brain, TTS, phone audio out."""

from __future__ import annotations

from dataclasses import dataclass

from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import Frame, InputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.base_transport import BaseTransport
from pipecat.turns.empty_user_turn import EmptyUserTurnConfig
from pipecat.turns.user_start import VADUserTurnStartStrategy
from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from voiceagent.brain.prompt import system_prompt
from voiceagent.brain.service import EMPTY_TURN_MARKER
from voiceagent.call.loudness import frame_rms, is_quiet
from voiceagent.call.retrieval import RetrievalContext, RetrievalPrefetch
from voiceagent.call.playback import HangupAfterClosing, HeardContextFilter, PlaybackTracker
from voiceagent.call.record import CallRecord
from voiceagent.call.sentences import ends_a_sentence
from voiceagent.call.speculation import SpeculativeTurnStopStrategy, StreamingTranscriptTurnStop
from voiceagent.providers.cloud import tools_schema
from voiceagent.providers.factory import SEGMENTED_STT_WAIT_SECS, make_brain, make_stt, make_tts
from voiceagent.runtime import AgentRuntime

PHONE_SAMPLE_RATE = 8000
STOCK_RATES = (16000, 24000)  # Pipecat's default pipeline rates, for the bench's comparison


def pipeline_rates(runtime: AgentRuntime) -> tuple[int, int]:
    """(input, output) sample rates: the phone's 8 kHz end to end, or Pipecat's defaults when stock."""
    if runtime.settings.pipeline_profile == "stock":
        return STOCK_RATES
    return PHONE_SAMPLE_RATE, PHONE_SAMPLE_RATE


class CallerAudioDone(FrameProcessor):
    """After the user aggregator: the caller's audio has been heard by the STT, VAD and turn model, and nothing
    downstream uses it. Pipecat would pass each 20 ms frame through every later processor (brain, TTS,
    output...); stopping it here saves that queue-to-queue work, 50 times a second per call."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if not isinstance(frame, InputAudioRawFrame):
            await self.push_frame(frame, direction)


FINISHED_SENTENCE_GRACE_SECS = 0.2


class SegmentTranscriptTurnStop(TurnAnalyzerUserTurnStopStrategy):
    """The turn model's decision, for an STT that transcribes VAD segments and always finalizes the last one.

    Pipecat's strategy waits for transcript text: when the caller's last segment was noise (Whisper heard no
    words) it never fires, and the turn would end only at the watchdog, seconds later. A finalized transcript
    is all the words this turn will get, even when it is empty (the brain then asks the caller to repeat).

    Smart-turn also calls some finished sentences unfinished ("...next Tuesday at two in the afternoon."), and
    the turn then waits out its whole silence limit (1.2 s). Whisper ends a sentence it heard finish with a
    full stop or question mark and leaves a trailing-off fragment ("I was wondering") bare, so a final
    transcript that ends a sentence ends the turn after `FINISHED_SENTENCE_GRACE_SECS` more of quiet caller
    audio (counted in audio, not wall-clock time, and by loudness, since the VAD confirms new speech only
    0.2 s after it starts); any sound of speech before that keeps the turn open as before."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._sentence_finished = False
        self._quiet_after_sentence = 0.0
        self._peak_rms = 0.0  # the caller's loudest speech so far: "quiet" is relative to their level

    async def _discard_pending_end_of_turn(self):
        self._sentence_finished = False
        await super()._discard_pending_end_of_turn()

    async def _handle_transcription(self, frame):
        await super()._handle_transcription(frame)
        if frame.finalized and not self._text:
            self._text = " "  # settled, with no words: the aggregator sees an empty turn
            await self._maybe_trigger_user_turn_stopped()
        elif frame.finalized and ends_a_sentence(frame.text):
            self._sentence_finished, self._quiet_after_sentence = True, 0.0

    async def _handle_input_audio(self, frame):
        await super()._handle_input_audio(frame)
        rms = frame_rms(frame.audio)
        if self._vad_user_speaking:
            self._peak_rms = max(self._peak_rms, rms)
        if not self._sentence_finished or self._vad_user_speaking or self._turn_complete:
            return
        if not is_quiet(rms, self._peak_rms):
            self._quiet_after_sentence = 0.0  # perhaps the start of more words: wait for the VAD's verdict
            return
        self._quiet_after_sentence += len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)
        if self._quiet_after_sentence >= FINISHED_SENTENCE_GRACE_SECS:
            self._turn_complete = True
            await self._maybe_trigger_user_turn_stopped()


@dataclass
class CallPipeline:
    """The pipeline of one call and the processors the session talks to."""

    pipeline: Pipeline
    context: LLMContext
    tracker: PlaybackTracker
    hangup: HangupAfterClosing
    llm_brain: bool = False
    speculation: SpeculativeTurnStopStrategy | None = None


def turn_taking_params(runtime: AgentRuntime, speculate: bool = False
                       ) -> tuple[LLMUserAggregatorParams, SpeculativeTurnStopStrategy | None]:
    """VAD + smart-turn tuned so that short pauses inside a sentence do not end the caller's turn.

    With `speculate` (an LLM brain), the turn model's "complete" also starts a speculative answer;
    the strategy that does so is returned with the parameters."""
    settings = runtime.settings
    if settings.pipeline_profile == "stock":
        return LLMUserAggregatorParams(
            vad_analyzer=runtime.turn_models.vad_analyzer(VADParams()),
            user_turn_strategies=UserTurnStrategies(
                stop=[TurnAnalyzerUserTurnStopStrategy(turn_analyzer=runtime.turn_models.smart_turn(SmartTurnParams()))]
            ),
        ), None
    vad = runtime.turn_models.vad_analyzer(
        VADParams(
            confidence=settings.vad_confidence,
            start_secs=settings.vad_start_secs,
            stop_secs=settings.turn_stop_secs,
        )
    )
    smart_turn = runtime.turn_models.smart_turn(SmartTurnParams(stop_secs=settings.smart_turn_max_wait_secs))
    # The embedded STT transcribes the segments the VAD cut, one after another; on a busy machine the last
    # ones arrive seconds after the caller stopped. Until then the turn stays open (Pipecat's watchdog would
    # end it 3 s after the last event, on half a sentence), and a late transcript belongs to that turn:
    # it may not start a new one (Pipecat's transcription start strategy would, interrupting the answer).
    # A streaming STT keeps both defaults: it can hear speech the VAD missed.
    segmented = settings.resolved_provider("stt") == "embedded"
    # Speculation follows a streaming STT's interim and final results; the segmented STT's turn end stays its own.
    speculation = SpeculativeTurnStopStrategy(turn_analyzer=smart_turn) if speculate and not segmented else None
    plain = SegmentTranscriptTurnStop if segmented else StreamingTranscriptTurnStop
    stop = speculation or plain(turn_analyzer=smart_turn)
    start = [VADUserTurnStartStrategy()] if segmented else None
    return LLMUserAggregatorParams(
        vad_analyzer=vad,
        user_turn_strategies=UserTurnStrategies(start=start, stop=[stop]),
        empty_user_turn=EmptyUserTurnConfig(
            interrupted_prompt=EMPTY_TURN_MARKER,
            idle_prompt=EMPTY_TURN_MARKER,
            max_consecutive_recoveries=3,
        ),
        user_turn_stop_timeout=settings.turn_stop_secs + SEGMENTED_STT_WAIT_SECS if segmented else 3.0,
    ), speculation


def build_call_pipeline(runtime: AgentRuntime, transport: BaseTransport, record: CallRecord, end_call) -> CallPipeline:
    """Wire the processors of one call; `end_call(outcome)` ends it politely."""
    brain = make_brain(runtime, record)
    if brain.is_llm:
        context = LLMContext(messages=[{"role": "system", "content": system_prompt(runtime.settings.business_name)}],
                             tools=tools_schema())
        prefetch = RetrievalPrefetch(runtime.knowledge)
        # Retrieval starts on interim transcripts, except in the stock profile the bench compares against.
        before_user = [prefetch] if runtime.settings.pipeline_profile == "tuned" else []
        before_brain = [RetrievalContext(runtime.knowledge, prefetch)]
    else:
        context, before_user, before_brain = LLMContext(), [], []
    speculate = brain.is_llm and runtime.settings.speculative_generation
    user_params, speculation = turn_taking_params(runtime, speculate)
    aggregators = LLMContextAggregatorPair(context, user_params=user_params)
    if brain.is_llm:
        @aggregators.user().event_handler("on_user_turn_stopped")
        async def _caller_said(_aggregator, _strategy, message):
            if message.content:  # the committed words (the offline brain records its own)
                record.caller_said(message.content)

    tracker = PlaybackTracker(record)
    hangup = HangupAfterClosing(record, tracker, runtime.settings.hangup_after_goodbye_secs, end_call)
    pipeline = Pipeline(
        [
            transport.input(),
            make_stt(runtime),
            *before_user,
            aggregators.user(),
            *([] if runtime.settings.pipeline_profile == "stock" else [CallerAudioDone()]),
            HeardContextFilter(record),
            *before_brain,
            *brain.processors,
            make_tts(runtime),
            tracker,
            hangup,
            transport.output(),
            aggregators.assistant(),
        ]
    )
    return CallPipeline(pipeline=pipeline, context=context, tracker=tracker, hangup=hangup, llm_brain=brain.is_llm,
                        speculation=speculation)
