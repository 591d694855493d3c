"""Caller speech for simulated calls: text spoken by the local Piper voice, or WAV files."""

from __future__ import annotations

import re

import numpy as np

from voiceagent.simulate.audio import SAMPLE_RATE, to_phone_line

_PAUSE = re.compile(r"\[pause (\d+)\]")


class CallerVoice:
    """Speaks caller lines slightly slower and quieter than the agent; `[pause 400]` inserts silence."""

    def __init__(self, piper_voice, length_scale: float = 1.08, volume: float = 0.8):
        from piper.config import SynthesisConfig

        self._voice = piper_voice
        self._config = SynthesisConfig(length_scale=length_scale, volume=volume)

    def say(self, text: str) -> np.ndarray:
        pieces: list[np.ndarray] = []
        for index, part in enumerate(_PAUSE.split(text)):
            if index % 2 == 1:
                pieces.append(np.zeros(int(SAMPLE_RATE * int(part) / 1000), dtype=np.int16))
            elif part.strip():
                for chunk in self._voice.synthesize(part.strip(), syn_config=self._config):
                    pcm = np.frombuffer(chunk.audio_int16_bytes, dtype=np.int16)
                    pieces.append(to_phone_line(pcm, chunk.sample_rate))
        # A little room tone before and after, like a real line.
        lead = np.zeros(int(SAMPLE_RATE * 0.1), dtype=np.int16)
        return np.concatenate([lead, *pieces, lead])
