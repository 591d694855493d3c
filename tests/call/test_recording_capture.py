"""The recording's timeline: the caller's stream is the clock, agent audio plays as Twilio's queue plays it, and a
barge-in's clear cuts what was sent but never heard (a fake clock: no call, no waiting)."""

from __future__ import annotations

import io
import wave

import numpy as np

from voiceagent.brain.dialog import DialogEngine
from voiceagent.call import recording as recording_module
from voiceagent.call.recording import CallRecording
from voiceagent.shared.phrases import RECORDING_NOTICE, greeting_line

RATE = 8000
FRAME = 160  # 20 ms


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tone(samples: int, value: int = 1000) -> bytes:
    return np.full(samples, value, dtype=np.int16).tobytes()


def active_spans(track: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of each run of non-zero samples."""
    loud = np.concatenate([[0], (track != 0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(loud))
    return [(round(float(start) / RATE, 3), round(float(end) / RATE, 3)) for start, end in zip(edges[::2], edges[1::2])]


def tracks(recording: CallRecording) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(io.BytesIO(b"".join(recording.wav_chunks()))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        stereo = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).reshape(-1, 2)
    return stereo[:, 0], stereo[:, 1]


def run_call(events: list[tuple[float, str, int]], until: float) -> CallRecording:
    """Caller frames (silence) every 20 ms from t=0 to `until`, plus agent sends / clears at given times."""
    clock = Clock()
    recording = CallRecording(clock=clock)
    timeline = [((i + 1) * 0.02, "caller", FRAME) for i in range(int(until / 0.02))] + events  # arrive complete
    for at, kind, samples in sorted(timeline, key=lambda item: (item[0], item[1] != "caller")):
        clock.now = at
        if kind == "caller":
            recording.add_caller(bytes(samples * 2))
        elif kind == "agent":
            recording.add_agent(tone(samples))
        else:
            recording.clear()
    recording.stop()
    return recording


def sent_at_twice_real_time(start: float, seconds: float) -> list[tuple[float, str, int]]:
    """40 ms chunks every 20 ms: ahead of real time, as a burst after a stall is (the transport paces at 1x)."""
    return [(start + i * 0.02, "agent", 320) for i in range(round(seconds / 0.04))]


def test_agent_audio_sent_ahead_of_real_time_is_laid_where_it_plays():
    recording = run_call(sent_at_twice_real_time(0.2, 1.0), until=2.0)
    caller, agent = tracks(recording)
    assert active_spans(agent) == [(0.2, 1.2)]  # 1 s of audio sent in 0.5 s plays for 1 s
    assert not caller.any() and len(caller) == len(agent)


def test_a_clear_cuts_what_was_sent_but_not_yet_heard():
    events = sent_at_twice_real_time(0.2, 1.2) + [(0.8, "clear", 0)] + sent_at_twice_real_time(1.5, 0.4)
    recording = run_call(events, until=3.0)
    _, agent = tracks(recording)
    # Sent by 0.8 s: 1.2 s of audio that would have played to 1.4 s; the caller heard 0.2-0.8, then the next reply.
    assert active_spans(agent) == [(0.2, 0.8), (1.5, 1.9)] and recording.clears == 1


def test_a_caller_stream_that_starts_after_the_greeting_joins_at_its_time():
    clock = Clock()
    recording = CallRecording(clock=clock)
    recording.add_agent(tone(800))  # 0.1 s of greeting at t=0
    clock.now = 0.3
    recording.add_caller(tone(FRAME, 500))
    recording.stop()
    caller, agent = tracks(recording)
    assert active_spans(agent) == [(0.0, 0.1)] and active_spans(caller) == [(0.28, 0.3)]
    recording.add_caller(tone(FRAME))  # after stop(): ignored
    assert len(tracks(recording)[0]) == len(caller)


def test_long_calls_are_written_in_chunks_with_one_header(monkeypatch):
    monkeypatch.setattr(recording_module, "CHUNK_SECS", 1)
    recording = run_call(sent_at_twice_real_time(0.0, 3.6), until=2.5)
    pieces = list(recording.wav_chunks())
    assert len(pieces) == 1 + 4  # header, then 3.6 s in 1 s pieces
    _, agent = tracks(recording)
    assert active_spans(agent) == [(0.0, 3.6)]


def test_the_greeting_carries_the_notice_only_when_calls_are_recorded():
    recorded, plain = greeting_line("ByteAI", recorded=True), greeting_line("ByteAI")
    assert RECORDING_NOTICE not in plain and recorded.replace(f" {RECORDING_NOTICE}", "") == plain
    assert recorded.index("ByteAI") < recorded.index(RECORDING_NOTICE) < recorded.index("How can I help")
    assert DialogEngine(recording_notice=True).greeting() == recorded  # the offline engine's own greeting
    assert DialogEngine().greeting() == plain
