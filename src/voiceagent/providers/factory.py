"""Builds the per-call STT, brain (LLM) and TTS services from settings and shared models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipecat.pipeline.service_switcher import ServiceSwitcher, ServiceSwitcherStrategyFailover
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.stt_service import STTService

from voiceagent.brain.dialog import DialogEngine
from voiceagent.brain.service import OfflineBrainService
from voiceagent.brain.speech_text import speakable_transform
from voiceagent.call.clauses import speak_first_clause_early
from voiceagent.call.record import CallRecord
from voiceagent.call.resilience import LLMFailureFallback, LLMProgressProbe, NotHeardGuard
from voiceagent.providers.cloud import (
    make_anthropic_llm,
    make_deepgram_stt,
    make_elevenlabs_tts,
    make_openai_compatible_llm,
)
from voiceagent.providers.embedded import EmbeddedPiperTTSService, EmbeddedWhisperSTTService
from voiceagent.runtime import AgentRuntime
from voiceagent.tools import BusinessHours, ToolContext, run_tool
from voiceagent.tools.appointments import describe_requested_time, free_times_on

SEGMENTED_STT_WAIT_SECS = 6.0


class FailoverOnFirstError(ServiceSwitcherStrategyFailover):
    """A voice that errors has already cost the caller a sentence: move to the next voice at once, even on
    errors Pipecat counts as passing (a 429 at the handshake, a socket dropped mid-reply). The failed voice
    is not retried for the rest of the call."""

    async def handle_error(self, error):
        failed = error.processor or self.active_service
        if failed is self.active_service and failed.is_usable:
            await failed.set_usable(False)
        return await super().handle_error(error)


class ProviderNotAvailable(RuntimeError):
    """The configured provider cannot be built (unknown name or missing configuration)."""


def make_stt(runtime: AgentRuntime) -> STTService:
    provider = runtime.settings.resolved_provider("stt")
    if provider == "embedded" and runtime.speech_models:
        early = 0.0 if runtime.settings.pipeline_profile == "stock" else 0.25
        # The turn waits for the last segment's transcript and is released the moment it comes; this is only the
        # safety net, counted from the end of speech. Whisper tiny takes 0.4-1 s per utterance on 2 free cores
        # and several times that on busy ones; a late right answer beats a quick answer to half a sentence.
        return EmbeddedWhisperSTTService(
            runtime.speech_models, beam_size=runtime.settings.whisper_beam_size, early_secs=early,
            ttfs_p99_latency=runtime.settings.turn_stop_secs + SEGMENTED_STT_WAIT_SECS,
        )
    if provider == "deepgram" and runtime.settings.deepgram_api_key:
        return make_deepgram_stt(runtime.settings)
    raise ProviderNotAvailable(f"STT provider '{provider}' is not available")


def make_tts(runtime: AgentRuntime) -> FrameProcessor:
    provider = runtime.settings.resolved_provider("tts")
    transforms = [("*", speakable_transform)]
    if provider == "embedded" and runtime.speech_models:
        # Piper renders a sentence clause by clause on its own (the first piece is short), so it gets sentences.
        return EmbeddedPiperTTSService(runtime.speech_models, text_transforms=transforms)
    if provider == "elevenlabs" and runtime.settings.elevenlabs_api_key:
        cloud = make_elevenlabs_tts(runtime.settings, transforms, runtime.phrase_audio)
        if runtime.settings.pipeline_profile == "tuned":
            cloud = speak_first_clause_early(cloud)  # the first clause goes out before its sentence is complete
        if runtime.speech_models is None:
            return cloud
        # If ElevenLabs becomes unusable mid-call, the embedded voice takes over and the call goes on.
        return ServiceSwitcher(
            services=[cloud, EmbeddedPiperTTSService(runtime.speech_models, text_transforms=transforms)],
            strategy_type=FailoverOnFirstError,
        )
    raise ProviderNotAvailable(f"TTS provider '{provider}' is not available")


def make_tool_context(runtime: AgentRuntime, record: CallRecord) -> ToolContext:
    """What the tools know about this call; transfers go through Twilio's REST API when configured."""
    settings = runtime.settings
    hours = BusinessHours.from_settings(settings)
    control = runtime.call_control

    async def transfer(number: str) -> bool:
        return bool(control and record.call_sid) and await control.transfer(record.call_sid, number)

    def escalated() -> None:
        record.escalated = True

    return ToolContext(
        database=runtime.database, hours=hours, caller_phone=record.caller, call_sid=record.call_sid,
        now=lambda: datetime.now(hours.zone), transcript=record.conversation,
        transfer_call=transfer if control else None, transfer_number=settings.transfer_number,
        on_escalated=escalated,
    )


@dataclass
class Brain:
    """The brain's processors in pipeline order, and whether it is an LLM (which needs a prompt and tools)."""

    processors: list[FrameProcessor]
    is_llm: bool


def make_brain(runtime: AgentRuntime, record: CallRecord) -> Brain:
    provider = runtime.settings.resolved_provider("llm")
    context = make_tool_context(runtime, record)

    async def call_tool(name: str, arguments: dict) -> dict:
        if isinstance(arguments, dict) and isinstance(arguments.get("name"), str):
            record.personal_names.add(arguments["name"])  # masked wherever it appears in the stored transcript
        result = await run_tool(context, name, arguments)
        record.tool_calls.append({"name": name, "ok": bool(result.get("ok")), "error": result.get("error")})
        return result

    if provider == "embedded":
        engine = DialogEngine(
            business_name=runtime.settings.business_name,
            knowledge=runtime.knowledge,
            run_tool=call_tool,
            describe_when=lambda text: describe_requested_time(context, text),
            free_times=lambda text: free_times_on(context, text),
        )
        return Brain([OfflineBrainService(engine, record)], is_llm=False)
    if provider == "anthropic" and runtime.settings.anthropic_api_key:
        llm = make_anthropic_llm(runtime.settings, call_tool)
    elif provider == "openai" and runtime.settings.openai_llm_model:
        llm = make_openai_compatible_llm(runtime.settings, call_tool)
    else:
        raise ProviderNotAvailable(f"LLM provider '{provider}' is not available (missing key or model)")
    async def escalate(reason: str) -> dict:
        return await call_tool("escalate_to_human", {"reason": reason})

    fallback = LLMFailureFallback(llm, escalate, timeout_secs=runtime.settings.llm_timeout_secs)
    return Brain([NotHeardGuard(escalate), fallback, llm, LLMProgressProbe(fallback)], is_llm=True)
