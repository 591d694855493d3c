"""Start every emulator on loopback ports and tell the app how to reach them."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from voiceagent.emulators import deepgram_live, elevenlabs_stream
from voiceagent.emulators.anthropic_messages import EMULATOR_SHUTDOWN_SECS, AnthropicEmulator
from voiceagent.emulators.openai_chat import OpenAIChatEmulator
from voiceagent.emulators.openai_embeddings import OpenAIEmbeddingsEmulator
from voiceagent.emulators.twilio_rest import TwilioRestEmulator


@dataclass
class EmulatorSet:
    deepgram: deepgram_live.DeepgramEmulator
    anthropic: AnthropicEmulator
    elevenlabs: elevenlabs_stream.ElevenLabsEmulator
    openai: OpenAIEmbeddingsEmulator
    twilio: TwilioRestEmulator
    openai_chat: OpenAIChatEmulator
    urls: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """Environment variables that point the app's cloud stack at these emulators."""
        return {
            "DEEPGRAM_API_KEY": self.deepgram.api_key, "DEEPGRAM_BASE_URL": self.urls["deepgram"],
            "ANTHROPIC_API_KEY": self.anthropic.api_key, "ANTHROPIC_BASE_URL": self.urls["anthropic"],
            "ELEVENLABS_API_KEY": self.elevenlabs.api_key, "ELEVENLABS_BASE_URL": self.urls["elevenlabs"],
            "OPENAI_API_KEY": self.openai.api_key, "OPENAI_BASE_URL": self.urls["openai"] + "/v1",
            "TWILIO_ACCOUNT_SID": self.twilio.account_sid, "TWILIO_AUTH_TOKEN": self.twilio.auth_token,
            "TWILIO_API_BASE_URL": self.urls["twilio"],
            # An OpenAI-compatible LLM too; it takes over with LLM_PROVIDER=openai and OPENAI_LLM_MODEL set.
            "OPENAI_LLM_BASE_URL": self.urls["openai_chat"] + "/v1", "OPENAI_LLM_API_KEY": self.openai_chat.api_key,
        }


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=EMULATOR_SHUTDOWN_SECS)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


@asynccontextmanager
async def start_emulators(speech_models, *, stt_final_ms: float = 300, llm_first_token_ms: float = 400,
                          tts_first_audio_ms: float = 250):
    """All six emulators with the vendors' published median latencies by default."""
    emulators = EmulatorSet(
        deepgram=deepgram_live.DeepgramEmulator(speech_models, final_delay_ms=stt_final_ms),
        anthropic=AnthropicEmulator(first_token_ms=llm_first_token_ms),
        elevenlabs=elevenlabs_stream.ElevenLabsEmulator(speech_models, first_audio_ms=tts_first_audio_ms),
        openai=OpenAIEmbeddingsEmulator(),
        twilio=TwilioRestEmulator(),
        openai_chat=OpenAIChatEmulator(first_token_ms=llm_first_token_ms),
    )
    deepgram_server, emulators.urls["deepgram"] = await deepgram_live.start(emulators.deepgram)
    elevenlabs_server, emulators.urls["elevenlabs"] = await elevenlabs_stream.start(emulators.elevenlabs)
    runners = []
    for name in ("anthropic", "openai", "twilio", "openai_chat"):
        runner, emulators.urls[name] = await serve_app(getattr(emulators, name).app())
        runners.append(runner)
    try:
        yield emulators
    finally:
        for server in (deepgram_server, elevenlabs_server):
            server.close()
            await server.wait_closed()
        for runner in runners:
            await runner.cleanup()
