"""Recording one call (RECORD_CALLS): caller left, agent right, on one timeline, as the caller heard it.

Two taps feed it: one after transport.input() (the caller's audio as Twilio sent it) and one after
transport.output() (the agent's audio as it was written to Twilio, and the barge-in `clear`).

Why not Pipecat's AudioBufferProcessor: after transport.output() it never sees the caller's audio (caller_audio_done
drops it after the user aggregator, tuned profile, to spare ten processors 25 frames a second), and it knows nothing
of Twilio's `clear`. Here the caller's stream is the clock (Twilio sends 20 ms every 20 ms; they reach the tap in the
serializer's chunks, INBOUND_CHUNK_MS or QUIET_CHUNK_MS on a quiet line, each once complete), agent audio is laid
where Twilio's queue plays it (the transport sends in real time, one 40 ms chunk ahead), and a clear cuts what
had been sent but not yet played.
"""

from __future__ import annotations

import asyncio
import io
import time
import wave
from collections.abc import Iterator

from loguru import logger
from pipecat.audio.utils import create_stream_resampler, interleave_stereo_audio
from pipecat.frames.frames import Frame, InputAudioRawFrame, InterruptionFrame, OutputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voiceagent.config import PHONE_SAMPLE_RATE
from voiceagent.storage.recordings import RecordingStore

SAMPLE_BYTES = 2  # 16-bit PCM
CHUNK_SECS = 10  # the WAV is interleaved and encrypted this much at a time, never whole in a second copy


def wav_header(frames: int, rate: int = PHONE_SAMPLE_RATE, channels: int = 2) -> bytes:
    """The 44-byte header of a 16-bit PCM WAV of `frames` frames (the stdlib writer, sized up front)."""
    buffer = io.BytesIO()
    wav = wave.open(buffer, "wb")
    try:
        wav.setnchannels(channels)
        wav.setsampwidth(SAMPLE_BYTES)
        wav.setframerate(rate)
        wav.setnframes(frames)
        wav.writeframesraw(b"")  # writes the header for `frames`
        return buffer.getvalue()
    finally:
        wav.close()


class CallRecording:
    """Both tracks of one call in memory (32 kB per second of call), until it is saved at the end."""

    def __init__(self, rate: int = PHONE_SAMPLE_RATE, clock=time.monotonic):
        self.rate = rate
        self._clock = clock
        self._caller = bytearray()
        self._agent = bytearray()
        self._origin: float | None = None  # when the first audio of either side arrived
        self._caller_at: float | None = None  # when the caller track last grew (its end was "now" then)
        self._stopped = False
        self.clears = 0

    @property
    def seconds(self) -> float:
        return max(len(self._caller), len(self._agent)) / SAMPLE_BYTES / self.rate

    def _now(self) -> int:
        """The current position in samples: the caller's stream is the clock, wall time fills between frames."""
        now = self._clock()
        if self._origin is None:
            self._origin = now
        if self._caller_at is None:
            return round((now - self._origin) * self.rate)
        return len(self._caller) // SAMPLE_BYTES + round((now - self._caller_at) * self.rate)

    def add_caller(self, pcm: bytes) -> None:
        if self._stopped or not pcm:
            return
        if self._caller_at is None:  # the agent may have started first: the caller's track starts where it joins
            samples = len(pcm) // SAMPLE_BYTES
            if self._origin is None:  # a frame arrives once complete: the call started when it began
                self._origin = self._clock() - samples / self.rate
            start = max(0, self._now() - samples)
            self._caller.extend(bytes(start * SAMPLE_BYTES))
        self._caller.extend(pcm)
        self._caller_at = self._clock()

    def add_agent(self, pcm: bytes) -> None:
        """Audio just written to Twilio: it plays after what Twilio still has queued, or now."""
        if self._stopped or not pcm:
            return
        start = self._now() * SAMPLE_BYTES
        if len(self._agent) < start:
            self._agent.extend(bytes(start - len(self._agent)))
        self._agent.extend(pcm)

    def clear(self) -> None:
        """Twilio was told to drop its queue: the agent audio after this moment was never heard."""
        if self._stopped:
            return
        self.clears += 1
        del self._agent[self._now() * SAMPLE_BYTES:]

    def stop(self) -> None:
        """No more audio: the call is over and the tracks may be read from another thread."""
        self._stopped = True

    def wav_chunks(self) -> Iterator[bytes]:
        """The stereo WAV (left caller, right agent), a header and then CHUNK_SECS of frames at a time."""
        length = max(len(self._caller), len(self._agent))
        yield wav_header(length // SAMPLE_BYTES, self.rate)
        step = CHUNK_SECS * self.rate * SAMPLE_BYTES
        for start in range(0, length, step):
            size = min(step, length - start)
            left = bytes(self._caller[start:start + size]).ljust(size, b"\0")
            right = bytes(self._agent[start:start + size]).ljust(size, b"\0")
            yield interleave_stereo_audio(left, right)

    def taps(self) -> tuple[FrameProcessor, FrameProcessor]:
        """(after transport.input(), after transport.output())."""
        return CallerAudioTap(self), AgentAudioTap(self)


class _Tap(FrameProcessor):
    def __init__(self, recording: CallRecording, **kwargs):
        super().__init__(**kwargs)
        self._recording = recording
        self._resampler = create_stream_resampler()

    async def _phone_rate(self, frame) -> bytes:
        if frame.sample_rate == self._recording.rate:
            return frame.audio
        return await self._resampler.resample(frame.audio, frame.sample_rate, self._recording.rate)


class CallerAudioTap(_Tap):
    """After transport.input(): all of the caller's audio, as Twilio sent it (in the serializer's chunks)."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            self._recording.add_caller(await self._phone_rate(frame))
        await self.push_frame(frame, direction)


class AgentAudioTap(_Tap):
    """After transport.output(): the agent's audio once written to Twilio, and each barge-in's clear."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, OutputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            self._recording.add_agent(await self._phone_rate(frame))
        elif isinstance(frame, InterruptionFrame):
            self._recording.clear()
        await self.push_frame(frame, direction)


async def save_recording(settings, call_sid: str | None, recording: CallRecording, metrics=None, log=logger) -> None:
    """Encrypt and write the call's recording off the event loop; a failure is logged and counted, not raised."""
    recording.stop()
    if recording.seconds == 0:
        return
    started = time.perf_counter()
    try:
        store = RecordingStore.from_settings(settings)
        path = await asyncio.to_thread(store.save, call_sid, recording.wav_chunks())
        log.info(f"Recording saved: {path.name}, {recording.seconds:.0f} s, "
                 f"encrypted in {time.perf_counter() - started:.2f} s")
    except Exception:
        if metrics is not None:
            metrics.errors.labels(component="recording").inc()
        log.exception("Could not save the call recording")
