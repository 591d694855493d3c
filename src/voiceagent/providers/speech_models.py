"""Whisper and the Piper voice, loaded once per process and shared by every call."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from loguru import logger

from voiceagent.providers.audio_cache import AudioCache
from voiceagent.providers.piper import CACHED_CLAUSE_CHARS, load_piper_voice
from voiceagent.providers.whisper import HOTWORDS, WHISPER_RATE, decode, load_whisper


@dataclass
class SpeechModels:
    """Whisper tiny.en (faster-whisper) and the Piper voice, loaded once per process."""

    whisper: object
    piper_voice: object
    whisper_lock: threading.Lock = field(default_factory=threading.Lock)
    piper_lock: threading.Lock = field(default_factory=threading.Lock)
    hotwords: str = HOTWORDS
    load_seconds: float = 0.0
    # Spoken clauses kept for reuse: the greeting, cues, confirmations, closing and the FAQ answers of the
    # offline engine come back word for word in call after call, and then play without synthesis.
    speech_cache: AudioCache = field(default_factory=AudioCache)

    @classmethod
    def load(cls, *, whisper_threads: int = 2) -> SpeechModels:
        started = time.perf_counter()
        whisper = load_whisper(threads=whisper_threads)
        voice = load_piper_voice()
        models = cls(whisper=whisper, piper_voice=voice)
        # One tiny inference each so the first caller does not pay for lazy initialisation.
        models.transcribe(np.zeros(WHISPER_RATE // 2, dtype=np.float32))
        list(voice.synthesize("Hello."))
        models.load_seconds = time.perf_counter() - started
        logger.info(f"Embedded speech models ready in {models.load_seconds:.1f}s")
        return models

    def transcribe(self, audio_16k: np.ndarray, beam_size: int = 1) -> str:
        """Transcribe one finished utterance (float32 mono at 16 kHz), biased towards the business's words."""
        # CTranslate2 on 2 cores gains nothing from overlapping decodes; serialise them.
        with self.whisper_lock:
            return decode(self.whisper, audio_16k, beam_size=beam_size, hotwords=self.hotwords)

    def synthesize(self, text: str) -> list[tuple[bytes, int]]:
        """Speak text; returns (int16 PCM, sample rate) chunks, one per sentence. Clauses of up to
        `CACHED_CLAUSE_CHARS` characters are cached (least recently used out past the byte limit)."""
        key = text.strip()
        cached = self.speech_cache.get(key)
        if cached is not None:
            return cached
        with self.piper_lock:
            chunks = [(chunk.audio_int16_bytes, chunk.sample_rate) for chunk in self.piper_voice.synthesize(text)]
        if len(key) <= CACHED_CLAUSE_CHARS:
            self.speech_cache.put(key, chunks, sum(len(audio) for audio, _ in chunks))
        return chunks
