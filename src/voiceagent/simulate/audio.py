"""Phone-line audio helpers for the simulator: mu-law, WAV files, caller voices."""

from __future__ import annotations

import audioop
import wave
from pathlib import Path

import numpy as np
import soxr

SAMPLE_RATE = 8000
FRAME_SECS = 0.02
FRAME_BYTES = int(SAMPLE_RATE * FRAME_SECS)  # 160 samples = 160 mu-law bytes


def mulaw_encode(pcm: np.ndarray) -> bytes:
    return audioop.lin2ulaw(pcm.astype(np.int16).tobytes(), 2)


def mulaw_decode(payload: bytes) -> np.ndarray:
    return np.frombuffer(audioop.ulaw2lin(payload, 2), dtype=np.int16)


def read_wav(path: Path) -> np.ndarray:
    """Any mono/stereo 16-bit WAV, returned as int16 mono at 8 kHz."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV files are supported")
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        if wav.getnchannels() > 1:
            frames = frames.reshape(-1, wav.getnchannels()).mean(axis=1).astype(np.int16)
        rate = wav.getframerate()
    if rate != SAMPLE_RATE:
        frames = soxr.resample(frames, rate, SAMPLE_RATE).astype(np.int16)
    return frames


def write_wav(path: Path, channels: list[np.ndarray], rate: int = SAMPLE_RATE) -> None:
    length = max(len(c) for c in channels)
    stacked = np.zeros((length, len(channels)), dtype=np.int16)
    for index, channel in enumerate(channels):
        stacked[: len(channel), index] = channel
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(len(channels))
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(stacked.tobytes())


def to_phone_line(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Resample to 8 kHz and pass through mu-law once, as the phone network would."""
    if rate != SAMPLE_RATE:
        pcm = soxr.resample(pcm.astype(np.float32) / 32768.0, rate, SAMPLE_RATE)
        pcm = np.clip(pcm * 32768.0, -32768, 32767).astype(np.int16)
    return mulaw_decode(mulaw_encode(pcm))


def timeline_tracks(started: float, segments: list[tuple[float, np.ndarray]], end: float) -> np.ndarray:
    """Lay timestamped audio segments on one track starting at `started`."""
    track = np.zeros(int((end - started) * SAMPLE_RATE) + SAMPLE_RATE, dtype=np.int16)
    for at, pcm in segments:
        offset = max(0, int((at - started) * SAMPLE_RATE))
        piece = pcm[: max(0, len(track) - offset)]
        track[offset : offset + len(piece)] = piece
    return track
