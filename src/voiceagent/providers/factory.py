"""Builds the per-call STT, brain (LLM) and TTS services from settings and shared models."""

from __future__ import annotations

from pipecat.services.llm_service import LLMService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService

from voiceagent.brain.dialog import DialogEngine
from voiceagent.brain.service import OfflineBrainService
from voiceagent.call.record import CallRecord
from voiceagent.providers.embedded import EmbeddedPiperTTSService, EmbeddedWhisperSTTService
from voiceagent.runtime import AgentRuntime


class ProviderNotAvailable(RuntimeError):
    """The configured provider cannot be built (unknown name or missing configuration)."""


def make_stt(runtime: AgentRuntime) -> STTService:
    provider = runtime.settings.resolved_provider("stt")
    if provider == "embedded" and runtime.speech_models:
        early = 0.0 if runtime.settings.pipeline_profile == "stock" else 0.25
        return EmbeddedWhisperSTTService(
            runtime.speech_models, beam_size=runtime.settings.whisper_beam_size, early_secs=early
        )
    raise ProviderNotAvailable(f"STT provider '{provider}' is not available")


def make_tts(runtime: AgentRuntime) -> TTSService:
    provider = runtime.settings.resolved_provider("tts")
    if provider == "embedded" and runtime.speech_models:
        return EmbeddedPiperTTSService(runtime.speech_models)
    raise ProviderNotAvailable(f"TTS provider '{provider}' is not available")


def make_brain(runtime: AgentRuntime, record: CallRecord) -> LLMService:
    provider = runtime.settings.resolved_provider("llm")
    if provider == "embedded":
        engine = DialogEngine(business_name=runtime.settings.business_name)
        return OfflineBrainService(engine, record)
    raise ProviderNotAvailable(f"LLM provider '{provider}' is not available")
