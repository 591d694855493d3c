"""The parts of one call, assembled from the providers' services: its STT, its voice, and its brain
(the offline dialog engine, or an LLM with tools, fallbacks and the not-heard guard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipecat.pipeline.service_switcher import ServiceSwitcher, ServiceSwitcherStrategyFailover
from pipecat.processors.frame_processor import FrameProcessor

from voiceagent.brain.dialog import DialogEngine
from voiceagent.brain.service import OfflineBrainService
from voiceagent.call.clauses import speak_first_clause_early
from voiceagent.call.llm_tools import register_tools
from voiceagent.call.resilience import LLMFailureFallback, LLMProgressProbe, NotHeardGuard
from voiceagent.observability.metrics import CallMetrics
from voiceagent.providers.factory import make_llm, make_voices
from voiceagent.runtime import AgentRuntime
from voiceagent.shared.record import CallRecord
from voiceagent.shared.redact import redact_value
from voiceagent.shared.speech_text import speakable_transform
from voiceagent.tools import TOOLS, BusinessHours, ToolContext, run_tool
from voiceagent.tools.appointments import describe_requested_time, free_times_on


class FailoverOnFirstError(ServiceSwitcherStrategyFailover):
    """A voice that errors has already cost the caller a sentence: move to the next voice at once, even on
    errors Pipecat counts as passing (a 429 at the handshake, a socket dropped mid-reply). The failed voice
    is not retried for the rest of the call."""

    async def handle_error(self, error):
        failed = error.processor or self.active_service
        if failed is self.active_service and failed.is_usable:
            await failed.set_usable(False)
        return await super().handle_error(error)


def make_call_voice(runtime: AgentRuntime) -> FrameProcessor:
    """The configured voice, speaking a reply's first clause early (tuned, streaming TTS), with the embedded
    voice taking over for the rest of the call if the configured one fails."""
    settings = runtime.settings
    voices = make_voices(settings, runtime.speech_models, runtime.phrase_audio, [("*", speakable_transform)])
    if settings.resolved_provider("tts") != "embedded" and settings.pipeline_profile == "tuned":
        # Piper renders a sentence clause by clause on its own; a streaming voice gets the first clause early.
        voices[0] = speak_first_clause_early(voices[0])
    if len(voices) == 1:
        return voices[0]
    return ServiceSwitcher(services=voices, strategy_type=FailoverOnFirstError)


def make_tool_context(runtime: AgentRuntime, record: CallRecord, metrics: CallMetrics | None = None) -> ToolContext:
    """What the tools know about this call; transfers and texts go through the phone network's REST API when
    configured."""
    settings = runtime.settings
    hours = BusinessHours.from_settings(settings)
    control = runtime.call_control
    messages = runtime.text_messages

    async def send_text(to: str, body: str) -> bool:
        sent = await messages.send(to, body) is not None
        if metrics:
            metrics.sms.labels(result="sent" if sent else "failed").inc()
        return sent

    def end_call() -> None:
        record.closing = True  # HangupAfterClosing hangs up once the closing line was heard and the caller is quiet

    async def transfer(number: str) -> bool:
        return bool(control and record.call_sid) and await control.transfer(record.call_sid, number)

    def escalated() -> None:
        record.escalated = True

    return ToolContext(
        database=runtime.database, hours=hours, caller_phone=record.caller, call_sid=record.call_sid,
        now=lambda: datetime.now(hours.zone), transcript=record.conversation,
        personal_names=lambda: record.personal_names,
        transfer_call=transfer if control else None, transfer_number=settings.transfer_number,
        on_escalated=escalated, business_name=settings.business_name,
        send_text=send_text if messages else None, on_end_call=end_call,
    )


@dataclass
class Brain:
    """The brain's processors in pipeline order, and whether it is an LLM (which needs a prompt and tools)."""

    processors: list[FrameProcessor]
    is_llm: bool


_TOOL_NAMES = {spec.name for spec in TOOLS}


def tool_result_label(result: dict) -> str:
    """ok, invalid (the arguments were refused before the tool ran) or failed (it ran and could not do it)."""
    if result.get("ok"):
        return "ok"
    return "invalid" if result.get("error") == "invalid_arguments" else "failed"


def make_brain(runtime: AgentRuntime, record: CallRecord, metrics: CallMetrics | None = None) -> Brain:
    context = make_tool_context(runtime, record, metrics)

    # Every tool call of every brain comes through here: one place records and counts them.
    async def call_tool(name: str, arguments: dict) -> dict:
        if isinstance(arguments, dict) and isinstance(arguments.get("name"), str):
            record.personal_names.add(arguments["name"])  # masked wherever it appears in the stored transcript
        result = await run_tool(context, name, arguments)
        # Redacted as stored: the console shows what the tool was asked and answered, without names or numbers.
        record.tool_calls.append({"name": name, "ok": bool(result.get("ok")), "error": result.get("error"),
                                  "arguments": redact_value(arguments, record.personal_names),
                                  "result": redact_value(result, record.personal_names)})
        if metrics:
            tool = name if name in _TOOL_NAMES else "unknown"  # an LLM's made-up name must not become a label
            metrics.tool_calls.labels(tool=tool, result=tool_result_label(result)).inc()
            if result.get("error") == "internal":  # the tool raised (a bug or its storage), not a refusal
                metrics.errors.labels(component="tools").inc()
        return result

    llm = make_llm(runtime.settings)
    if llm is None:
        engine = DialogEngine(
            business_name=runtime.settings.business_name,
            knowledge=runtime.knowledge,
            run_tool=call_tool,
            describe_when=lambda text: describe_requested_time(context, text),
            free_times=lambda text: free_times_on(context, text),
            intents=runtime.intents,
            recording_notice=runtime.settings.record_calls,
            appointment_minutes=runtime.settings.appointment_minutes,
        )
        return Brain([OfflineBrainService(engine, record)], is_llm=False)
    register_tools(llm, call_tool)

    async def escalate(reason: str) -> dict:
        return await call_tool("escalate_to_human", {"reason": reason})

    fallback = LLMFailureFallback(llm, escalate, timeout_secs=runtime.settings.llm_timeout_secs, metrics=metrics)
    return Brain([NotHeardGuard(escalate), fallback, llm, LLMProgressProbe(fallback)], is_llm=True)
