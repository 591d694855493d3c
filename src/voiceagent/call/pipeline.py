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
from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from voiceagent.brain.prompt import system_prompt
from voiceagent.brain.service import EMPTY_TURN_MARKER
from voiceagent.call.retrieval import RetrievalContext, RetrievalPrefetch
from voiceagent.call.playback import HangupAfterClosing, HeardContextFilter, PlaybackTracker
from voiceagent.call.record import CallRecord
from voiceagent.call.speculation import SpeculativeTurnStopStrategy
from voiceagent.providers.cloud import tools_schema
from voiceagent.providers.factory import make_brain, make_stt, make_tts
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
    speculation = SpeculativeTurnStopStrategy(turn_analyzer=smart_turn) if speculate else None
    stop = speculation or TurnAnalyzerUserTurnStopStrategy(turn_analyzer=smart_turn)
    return LLMUserAggregatorParams(
        vad_analyzer=vad,
        user_turn_strategies=UserTurnStrategies(stop=[stop]),
        empty_user_turn=EmptyUserTurnConfig(
            interrupted_prompt=EMPTY_TURN_MARKER,
            idle_prompt=EMPTY_TURN_MARKER,
            max_consecutive_recoveries=3,
        ),
        user_turn_stop_timeout=3.0,
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
