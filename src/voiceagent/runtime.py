"""Everything a call needs that is built once per process: models, database, knowledge base."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from loguru import logger

from voiceagent.config import Settings
from voiceagent.process import tune_memory_allocator
from voiceagent.providers.embedded import SpeechModels, TurnModels


@dataclass
class AgentRuntime:
    """Shared, read-mostly resources handed to every call."""

    settings: Settings
    turn_models: TurnModels
    speech_models: SpeechModels | None
    started_at: float = field(default_factory=time.time)
    extras: dict = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings) -> AgentRuntime:
        """Load models once; the embedded speech models only when a part of the stack uses them."""
        tune_memory_allocator()
        stack = settings.stack_summary()
        logger.info("Stack: " + ", ".join(f"{part}={provider}" for part, provider in stack.items()))
        needs_speech = stack["stt"] == "embedded" or stack["tts"] == "embedded"
        speech = SpeechModels.load(whisper_threads=settings.whisper_threads) if needs_speech else None
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings=settings, turn_models=TurnModels.load(), speech_models=speech)
