"""What counts as quiet next to the caller's speech: relative to their voice, and to the line's own noise."""

from __future__ import annotations

import numpy as np

from voiceagent.shared.audio_level import NOISE_FRAMES, QuietTracker

RATE = 8000
FRAME = 320  # 40 ms


def _frame(level: float, seed: int) -> bytes:
    noise = np.random.default_rng(seed).normal(0, level, FRAME)
    return np.clip(noise, -32768, 32767).astype(np.int16).tobytes()


def test_hiss_under_the_whole_call_is_quiet_once_the_line_is_heard_without_speech():
    tracker = QuietTracker()
    tracker.observe(_frame(6000, 0), RATE, speaking=True)  # the caller's voice: a tenth of it is 600
    hiss = [_frame(1000, seed) for seed in range(1, NOISE_FRAMES + 1)]
    assert not tracker.observe(hiss[0], RATE, speaking=False)[0]  # louder than a tenth of the voice
    for frame in hiss[1:]:
        tracker.observe(frame, RATE, speaking=False)
    assert 900 < tracker.noise_rms < 1100
    quiet, _ = tracker.observe(_frame(1000, 99), RATE, speaking=False)
    assert quiet and tracker.quiet_secs > 0
    assert not tracker.observe(_frame(6000, 100), RATE, speaking=True)[0]  # speech over the hiss is not quiet


def test_a_clean_line_keeps_a_tenth_of_the_voice_as_quiet():
    tracker = QuietTracker()
    tracker.observe(_frame(6000, 0), RATE, speaking=True)
    for seed in range(1, NOISE_FRAMES + 1):
        tracker.observe(_frame(50, seed), RATE, speaking=False)
    assert tracker.noise_rms < 60
    assert tracker.observe(_frame(500, 7), RATE, speaking=False)[0]
    assert not tracker.observe(_frame(800, 8), RATE, speaking=False)[0]


def test_background_frames_set_the_floor_without_counting_quiet():
    tracker = QuietTracker()
    for seed in range(NOISE_FRAMES):
        tracker.observe_background(_frame(1000, seed))
    assert tracker.noise_rms > 900 and tracker.quiet_secs == 0.0
