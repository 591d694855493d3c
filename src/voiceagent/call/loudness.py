"""How loud a frame of caller audio is, and whether it counts as quiet next to the caller's own speech."""

from __future__ import annotations

import numpy as np


def frame_rms(pcm16: bytes) -> float:
    """Root-mean-square level of 16-bit PCM (0 for an empty frame)."""
    samples = np.frombuffer(pcm16, dtype=np.int16).astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0


def is_quiet(rms: float, peak_rms: float) -> bool:
    """Below a tenth of the caller's loudest speech (and below line-noise level 200 for a quiet caller)."""
    return rms < max(200.0, 0.1 * peak_rms)
