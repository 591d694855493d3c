"""Debian's chromium driven by Playwright, with a WAV file as its microphone (never `playwright install`)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import soxr

from voiceagent.simulate.audio import SAMPLE_RATE, write_wav

CHROMIUM = Path("/usr/bin/chromium")
MIC_RATE = 16000


def chromium_args(microphone_wav: Path) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone_wav}"]


def microphone_wav(path: Path, speech_8k: np.ndarray, before_secs: float, after_secs: float) -> Path:
    """A 16 kHz mono WAV: silence, the caller's line, silence (chromium plays the file in a loop)."""
    speech = soxr.resample(speech_8k.astype(np.float32) / 32768.0, SAMPLE_RATE, MIC_RATE)
    pcm = np.clip(speech * 32768.0, -32768, 32767).astype(np.int16)
    silence = lambda secs: np.zeros(int(MIC_RATE * secs), dtype=np.int16)  # noqa: E731
    write_wav(path, [np.concatenate([silence(before_secs), pcm, silence(after_secs)])], rate=MIC_RATE)
    return path


@asynccontextmanager
async def chromium(microphone: Path, profile_dir: Path):
    """A fresh chromium (new, empty profile) whose microphone plays `microphone`; yields its browser context."""
    from playwright.async_api import async_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (scripts/install-system-packages.sh)"
    profile_dir.mkdir(parents=True, exist_ok=True)
    assert not any(profile_dir.iterdir()), "chromium needs a new, empty user-data-dir"
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=chromium_args(microphone),
            viewport={"width": 1200, "height": 860})
        try:
            yield context
        finally:
            await context.close()
