"""Settings + shared models -> the vendor services of one call (STT, LLM, TTS). Nothing here knows about calls."""

from __future__ import annotations

from pipecat.services.llm_service import LLMService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService

from voiceagent.config import Settings
from voiceagent.providers.audio_cache import AudioCache
from voiceagent.providers.speech_models import SpeechModels


class ProviderNotAvailable(RuntimeError):
    """The configured provider cannot be built (its models are not loaded in this process)."""


def make_stt(settings: Settings, speech_models: SpeechModels | None) -> STTService:
    """The configured STT; the turn waits for its final words at most `turn_taking.stt_final_wait_secs`."""
    provider = settings.resolved_provider("stt")
    turn = settings.turn_taking
    if provider == "deepgram":
        from voiceagent.providers.deepgram import make_deepgram_stt

        return make_deepgram_stt(settings)
    if speech_models is None:
        raise ProviderNotAvailable("the embedded STT needs the speech models, which are not loaded")
    from voiceagent.providers.whisper import EmbeddedWhisperSTTService

    # The turn waits for the last segment's transcript and is released the moment it comes; the wait is only
    # the safety net, counted from the end of speech. Whisper tiny takes 0.4-1 s per utterance on 2 free cores
    # and several times that on busy ones; a late right answer beats a quick answer to half a sentence.
    return EmbeddedWhisperSTTService(
        speech_models, beam_size=settings.whisper_beam_size, early_secs=turn.early_transcription_secs,
        ttfs_p99_latency=turn.stt_final_wait_secs,
    )


def make_voices(settings: Settings, speech_models: SpeechModels | None, phrase_audio: AudioCache,
                text_transforms: list) -> list[TTSService]:
    """The call's voices in order of preference: the configured TTS, then the embedded voice standing by
    as its fallback when the speech models are loaded."""
    from voiceagent.providers.piper import EmbeddedPiperTTSService

    embedded = ([EmbeddedPiperTTSService(speech_models, text_transforms=text_transforms)]
                if speech_models is not None else [])
    if settings.resolved_provider("tts") == "elevenlabs":
        from voiceagent.providers.elevenlabs import make_elevenlabs_tts

        cloud = make_elevenlabs_tts(settings, text_transforms, phrase_audio, sample_rate=settings.service_sample_rate)
        return [cloud, *embedded]
    if not embedded:
        raise ProviderNotAvailable("the embedded TTS needs the speech models, which are not loaded")
    return embedded


def make_llm(settings: Settings) -> LLMService | None:
    """The configured LLM service, or None when the brain is the offline dialog engine."""
    provider = settings.resolved_provider("llm")
    if provider == "anthropic":
        from voiceagent.providers.anthropic import make_anthropic_llm

        return make_anthropic_llm(settings)
    if provider == "openai":
        from voiceagent.providers.openai import make_openai_compatible_llm

        return make_openai_compatible_llm(settings)
    return None


def start_up_warnings(settings: Settings) -> list[str]:
    """What the operator should hear at start-up about the configured vendors (a model being retired)."""
    if settings.resolved_provider("llm") == "anthropic":
        from voiceagent.providers.anthropic import retiring_model_warning

        return [warning] if (warning := retiring_model_warning(settings.anthropic_model)) else []
    return []
