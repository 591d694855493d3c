"""Every private Pipecat name this project overrides or reads, by the Pipecat class that defines it.

Pipecat gives no public hook for these (checked against 1.14.0); each is a debt paid on every upgrade.
tests/architecture/test_pipecat_contract.py checks that each still exists on the installed Pipecat, so an upgrade
fails in seconds with the list of what moved, and that the code touches no private Pipecat name missing here.
"""

PRIVATE_NAMES: dict[str, tuple[str, ...]] = {
    # Turn end (call/turn_taking/): the stop strategy's state and the steps it is built from.
    "pipecat.turns.user_stop.turn_analyzer_user_turn_stop_strategy.TurnAnalyzerUserTurnStopStrategy": (
        "_discard_pending_end_of_turn", "_handle_input_audio", "_handle_transcription",
        "_handle_vad_user_stopped_speaking", "_maybe_trigger_user_turn_stopped", "_reset", "_text",
        "_transcript_finalized", "_turn_complete", "_vad_stopped", "_vad_user_speaking",
    ),
    # Shared ONNX sessions under per-call analyzers (providers/turn_models.py).
    "pipecat.audio.vad.vad_analyzer.VADAnalyzer": (
        "_get_smoothed_volume", "_params", "_run_analyzer",
    ),
    "pipecat.audio.vad.silero.SileroVADAnalyzer": ("_low_confidence_windows", "_model", "_windows_since_reset"),
    "pipecat.audio.turn.smart_turn.local_smart_turn_v3.LocalSmartTurnAnalyzerV3": ("_log_data", "_model_executor", "_session"),
    # The embedded STT's early transcription and segment merging (providers/whisper.py).
    "pipecat.services.stt_service.STTService": ("_do_reconnect", "_user_id", "_user_speaking"),
    "pipecat.services.stt_service.SegmentedSTTService": (
        "_audio_buffer", "_cancel_segment_task", "_handle_user_started_speaking", "_handle_user_stopped_speaking",
        "_segment_queue", "_segment_task", "_trailing_silence",
    ),
    # Deepgram keeping unconfirmed audio across a dropped socket (providers/deepgram.py).
    "pipecat.services.deepgram.stt.DeepgramSTTService": ("_connection", "_on_message"),
    # ElevenLabs: fixed phrases replayed from the cache, a socket dropped mid-reply reported (providers/elevenlabs.py).
    "pipecat.services.tts_service.TTSService": ("_handle_tts_speak", "_push_stop_frames", "_text_aggregator"),
    "pipecat.services.websocket_service.WebsocketService": ("_reconnect_websocket",),
    "pipecat.services.elevenlabs.tts_base.ElevenLabsTTSBase": ("_close_context",),
    # One observer queue per call, fed only first pushes of frames other than the caller's audio
    # (observability/call_observer.py): the worker builds its WorkerObserver in __init__.
    "pipecat.pipeline.worker.PipelineWorker": ("_observer",),
    # The first clause of a reply spoken early (call/clauses.py): 1.14 has no public setter for the aggregator.
    "pipecat.utils.text.base_text_aggregator.BaseTextAggregator": ("_aggregation_type",),
    "pipecat.utils.text.simple_text_aggregator.SimpleTextAggregator": ("_check_sentence_with_lookahead", "_text"),
}
