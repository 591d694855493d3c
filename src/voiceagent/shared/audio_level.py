"""How loud caller audio is, and how long it has been quiet next to the caller's own speech."""

from __future__ import annotations

import math
import time

import numpy as np


def frame_rms(pcm16: bytes) -> float:
    """Root-mean-square level of 16-bit PCM (0 for an empty frame). Measured on every caller frame by several
    processors, so one dot product (~1 us for 20 ms) rather than numpy's mean (~5 us, mostly Python overhead)."""
    samples = np.frombuffer(pcm16, dtype=np.int16).astype(np.float64)
    return math.sqrt(float(np.dot(samples, samples)) / len(samples)) if len(samples) else 0.0


NOISE_FRAMES = 50  # the line's noise floor: a low percentile of the last this many frames without speech
NOISE_MARGIN = 2.0  # quiet is under twice (6 dB above) that floor, on a line noisier than a tenth of the voice


def is_quiet(rms: float, peak_rms: float, noise_rms: float = 0.0) -> bool:
    """Below a tenth of the caller's loudest speech (and below level 200 for a quiet caller), or, on a noisy
    line, below twice the line's own noise floor: hiss under the whole call is not the caller speaking."""
    return rms < max(200.0, 0.1 * peak_rms, NOISE_MARGIN * noise_rms)


class QuietTracker:
    """Follows one caller's audio: their loudest speech so far and how long the audio has now been quiet.

    "Quiet" is relative to the caller's own level (see `is_quiet`), so a loud line and a soft voice both work.
    Every turn-end rule and the early transcription read their quiet from one of these.
    """

    def __init__(self) -> None:
        self.peak_rms = 0.0
        self.noise_rms = 0.0  # the line's noise floor, from frames the VAD did not call speech
        self._background: list[float] = []
        self.quiet_secs = 0.0  # quiet audio since the last loud frame
        self.quiet_since = 0.0  # wall-clock time that quiet began

    def observe(self, pcm16: bytes, sample_rate: int, num_channels: int = 1, *, speaking: bool) -> tuple[bool, float]:
        """Take one frame; `speaking` (the VAD's view) lets it raise the caller's peak. Returns (quiet, seconds)."""
        rms = frame_rms(pcm16)
        seconds = len(pcm16) / (2 * num_channels * sample_rate)
        if speaking:
            self.peak_rms = max(self.peak_rms, rms)
        else:
            self._learn_noise(rms)
        if not is_quiet(rms, self.peak_rms, self.noise_rms):
            self.quiet_secs = 0.0
            return False, seconds
        if self.quiet_secs == 0.0:
            self.quiet_since = time.time()
        self.quiet_secs += seconds
        return True, seconds

    def observe_background(self, pcm16: bytes) -> None:
        """Take one frame the VAD did not call speech, for the noise floor only (no quiet counted)."""
        self._learn_noise(frame_rms(pcm16))

    def _learn_noise(self, rms: float) -> None:
        self._background.append(rms)
        if len(self._background) >= NOISE_FRAMES:
            # The 20th percentile: a cough or the start of speech the VAD has not confirmed yet does not lift it.
            self.noise_rms = sorted(self._background)[NOISE_FRAMES // 5]
            self._background.clear()

    def restart_quiet(self) -> None:
        """Count quiet from now on (say, from the moment a transcript arrived)."""
        self.quiet_secs = 0.0
