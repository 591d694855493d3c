"""The plan's cloud LLM: Claude through Pipecat's Anthropic service, with our tools and a failure fallback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from anthropic import AsyncAnthropic
from loguru import logger
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.frames.frames import ErrorFrame, Frame, TTSSpeakFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.anthropic.llm import AnthropicLLMService
from pipecat.services.llm_service import FunctionCallParams, LLMService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService

from voiceagent.config import Settings
from voiceagent.tools import TOOLS

LLM_TIMEOUT_SECS = 10.0  # the plan: give up on the LLM after 10 s
LLM_RETRIES = 2  # the SDK retries 429/529/5xx with exponential backoff
LLM_FALLBACK = "I'm having trouble processing that. Let me connect you with support."

ToolRunner = Callable[[str, dict], Awaitable[dict]]


def tools_schema() -> ToolsSchema:
    """The same tool registry the offline engine uses, as Pipecat function schemas."""
    return ToolsSchema(standard_tools=[
        FunctionSchema(name=spec.name, description=spec.description,
                       properties=spec.parameters["properties"], required=spec.parameters["required"])
        for spec in TOOLS
    ])


def make_anthropic_llm(settings: Settings, call_tool: ToolRunner) -> LLMService:
    client = AsyncAnthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        timeout=LLM_TIMEOUT_SECS,
        max_retries=LLM_RETRIES,
    )
    llm = AnthropicLLMService(
        api_key=settings.anthropic_api_key.get_secret_value(),
        client=client,
        settings=AnthropicLLMService.Settings(model=settings.anthropic_model, max_tokens=300,
                                              enable_prompt_caching=True),
    )
    register_tools(llm, call_tool)
    return llm


def make_openai_compatible_llm(settings: Settings, call_tool: ToolRunner) -> LLMService:
    from pipecat.services.openai.llm import OpenAILLMService

    llm = OpenAILLMService(
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed",
        base_url=settings.openai_base_url,
        settings=OpenAILLMService.Settings(model=settings.openai_llm_model),
    )
    register_tools(llm, call_tool)
    return llm


def make_deepgram_stt(settings: Settings) -> STTService:
    """Deepgram live STT (nova-2), 8 kHz from the phone line, interim results, endpointing, keep-alive."""
    from pipecat.services.deepgram.stt import DeepgramSTTService

    # Pipecat hands the STT 16-bit PCM decoded from Twilio's mu-law; sending it as linear16 at 8 kHz
    # carries exactly the same samples.
    return DeepgramSTTService(
        api_key=settings.deepgram_api_key.get_secret_value(),
        base_url=settings.deepgram_base_url or "",
        encoding="linear16",
        sample_rate=8000,
        settings=DeepgramSTTService.Settings(
            model=settings.deepgram_model, interim_results=True, endpointing=300, utterance_end_ms=1000,
            smart_format=True, punctuate=True,
        ),
    )


def make_elevenlabs_tts(settings: Settings, text_transforms) -> TTSService:
    """ElevenLabs multi-stream-input over WebSocket, turbo v2.5, voice "Rachel", 8 kHz for the phone line."""
    from pipecat.services.elevenlabs.tts import ElevenLabsTTSService

    return ElevenLabsTTSService(
        api_key=settings.elevenlabs_api_key.get_secret_value(),
        url=settings.elevenlabs_base_url or "wss://api.elevenlabs.io",
        sample_rate=8000,
        settings=ElevenLabsTTSService.Settings(voice=settings.elevenlabs_voice_id, model=settings.elevenlabs_model),
        text_transforms=text_transforms,
    )


def register_tools(llm: LLMService, call_tool: ToolRunner) -> None:
    """Each tool call runs through the validating runner; a call from an interrupted reply is cancelled."""
    for spec in TOOLS:
        async def handler(params: FunctionCallParams, name: str = spec.name) -> None:
            result = await call_tool(name, dict(params.arguments or {}))
            await params.result_callback(result)

        llm.register_function(spec.name, handler, cancel_on_interruption=True)


class LLMFailureFallback(FrameProcessor):
    """Before the LLM: when it errors or times out, the caller hears a fallback and a human is called in."""

    def __init__(self, llm: LLMService, escalate: Callable[[str], Awaitable[dict]], **kwargs):
        super().__init__(**kwargs)
        self._llm = llm
        self._escalate = escalate
        self.failures = 0

        @llm.event_handler("on_completion_timeout")
        async def _on_timeout(_service):
            await self._fall_back("the language model timed out")

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, ErrorFrame) and direction == FrameDirection.UPSTREAM and frame.processor is self._llm:
            await self._fall_back(frame.error)
        await self.push_frame(frame, direction)

    async def _fall_back(self, reason: str) -> None:
        self.failures += 1
        logger.warning(f"LLM failed ({self.failures}): {reason[:120]}")
        result = await self._escalate("the assistant could not process the request")
        follow_up = result.get("message", "") if not result.get("transferred") else ""
        text = LLM_FALLBACK if not follow_up else f"{LLM_FALLBACK} {follow_up.split('. ', 1)[-1]}"
        await self.push_frame(TTSSpeakFrame(text), FrameDirection.DOWNSTREAM)
