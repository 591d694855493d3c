"""The user aggregator's turn-taking parameters for one call: VAD, turn model, start and stop strategies."""

from __future__ import annotations

from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregatorParams
from pipecat.turns.empty_user_turn import EmptyUserTurnConfig
from pipecat.turns.user_start import VADUserTurnStartStrategy
from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from voiceagent.brain.service import EMPTY_TURN_MARKER
from voiceagent.call.turn_taking.segmented_stop import SegmentTranscriptTurnStop
from voiceagent.call.turn_taking.speculation import SpeculativeTurnStopStrategy
from voiceagent.call.turn_taking.streaming_stop import StreamingTranscriptTurnStop
from voiceagent.config import Settings
from voiceagent.providers.turn_models import TurnModels

STREAMING_STOP_TIMEOUT_SECS = 3.0  # Pipecat's no-activity watchdog, kept for a streaming STT


def turn_taking_params(settings: Settings, turn_models: TurnModels, speculate: bool = False
                       ) -> tuple[LLMUserAggregatorParams, SpeculativeTurnStopStrategy | None]:
    """VAD + smart-turn tuned so that short pauses inside a sentence do not end the caller's turn.

    With `speculate` (an LLM brain), the turn model's "complete" also starts a speculative answer;
    the strategy that does so is returned with the parameters."""
    turn = settings.turn_taking
    if turn.stock:
        return LLMUserAggregatorParams(
            vad_analyzer=turn_models.vad_analyzer(VADParams()),
            user_turn_strategies=UserTurnStrategies(
                stop=[TurnAnalyzerUserTurnStopStrategy(turn_analyzer=turn_models.smart_turn(SmartTurnParams()))]
            ),
        ), None
    vad = turn_models.vad_analyzer(
        VADParams(confidence=turn.vad_confidence, start_secs=turn.vad_start_secs, stop_secs=turn.vad_stop_secs)
    )
    smart_turn = turn_models.smart_turn(SmartTurnParams(stop_secs=turn.smart_turn_max_wait_secs))
    # The embedded STT transcribes the segments the VAD cut, one after another; on a busy machine the last
    # ones arrive seconds after the caller stopped. Until then the turn stays open (Pipecat's watchdog would
    # end it 3 s after the last event, on half a sentence), and a late transcript belongs to that turn:
    # it may not start a new one (Pipecat's transcription start strategy would, interrupting the answer).
    # A streaming STT keeps both defaults: it can hear speech the VAD missed.
    segmented = turn.segmented_stt
    # Speculation follows a streaming STT's interim and final results; the segmented STT's turn end stays its own.
    speculation = (SpeculativeTurnStopStrategy(turn_analyzer=smart_turn, thresholds=turn)
                   if speculate and turn.speculative_generation and not segmented else None)
    plain = SegmentTranscriptTurnStop if segmented else StreamingTranscriptTurnStop
    stop = speculation or plain(turn_analyzer=smart_turn, thresholds=turn)
    start = [VADUserTurnStartStrategy()] if segmented else None
    return LLMUserAggregatorParams(
        vad_analyzer=vad,
        user_turn_strategies=UserTurnStrategies(start=start, stop=[stop]),
        empty_user_turn=EmptyUserTurnConfig(
            interrupted_prompt=EMPTY_TURN_MARKER,
            idle_prompt=EMPTY_TURN_MARKER,
            max_consecutive_recoveries=3,
        ),
        user_turn_stop_timeout=turn.stt_final_wait_secs if segmented else STREAMING_STOP_TIMEOUT_SECS,
    ), speculation
