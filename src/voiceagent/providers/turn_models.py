"""Silero VAD and smart-turn v3 (both ship inside Pipecat's wheel): one ONNX session each per process,
light per-call analyzers on top."""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import onnxruntime
from pipecat.audio.turn.smart_turn.base_smart_turn import BaseSmartTurn, SmartTurnParams
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroOnnxModel, SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams, VADState

from voiceagent.providers.onnx import onnx_session, packaged_file


@dataclass
class TurnModels:
    """Silero VAD and smart-turn v3 ONNX sessions, shared by every call (sessions are thread-safe).

    Every call's turn model runs on one thread of the process (Pipecat starts a thread per call): a run is ~40 ms
    of one core whatever else runs, so runs side by side only share the core and each other's caches (66 ms of
    CPU a run at 10 calls on one core), and one thread at a time lets the session keep its buffers between runs.
    """

    vad_session: onnxruntime.InferenceSession
    smart_turn_session: onnxruntime.InferenceSession
    smart_turn_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="smart-turn"))

    @classmethod
    def load(cls) -> TurnModels:
        return cls(
            vad_session=onnx_session(packaged_file("pipecat.audio.vad.data", "silero_vad.onnx")),
            smart_turn_session=onnx_session(
                packaged_file("pipecat.audio.turn.smart_turn.data", "smart-turn-v3.2-cpu.onnx"), arena=True
            ),
        )

    def vad_analyzer(self, params: VADParams) -> VADAnalyzer:
        return SharedSileroVADAnalyzer(self.vad_session, params=params)

    def smart_turn(self, params: SmartTurnParams) -> BaseSmartTurn:
        return SharedSmartTurnAnalyzer(self.smart_turn_session, self.smart_turn_thread, params=params)


WARM_UP_WINDOWS = 8  # quiet windows the VAD model hears again before scoring a loud one (256 ms at 8 kHz)


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
        self._window_volume: float | None = None
        self._skipped: deque[bytes] = deque(maxlen=WARM_UP_WINDOWS)
        self._skipped_count = 0
        self.model_runs = 0

    def voice_confidence(self, buffer) -> float:
        # Pipecat scores a window with the model, then measures its loudness, and calls it speech only when both
        # pass. Here the loudness comes first: a window quieter than `min_volume` cannot be speech whatever the
        # model says, so the model is not run for it (most of a call: the caller is quiet while the agent
        # speaks). When sound comes back, the model first hears the last quiet windows it skipped (all of them
        # after a short dip, so it decides exactly as if it had run; after a long one, from a fresh state).
        volume = self._window_volume = super()._get_smoothed_volume(buffer)
        if volume < self._params.min_volume:
            self._skipped.append(buffer)
            self._skipped_count += 1
            return 0.0
        if self._skipped_count:
            if self._skipped_count > len(self._skipped):
                # A fresh start, as Pipecat's own reset: its next one is due an interval from here, not in the
                # middle of the replay (which would leave the model a window or two to settle instead of eight).
                self._model.reset_states()
                self._windows_since_reset = 0
            for window in self._skipped:
                self._score(window)
            self._skipped.clear()
            self._skipped_count = 0
        return self._score(buffer)

    def _score(self, window: bytes) -> float:
        self.model_runs += 1
        return super().voice_confidence(window)

    def _get_smoothed_volume(self, audio: bytes) -> float:
        volume, self._window_volume = self._window_volume, None  # measured once per window, above
        return super()._get_smoothed_volume(audio) if volume is None else volume

    async def analyze_audio(self, buffer: bytes) -> VADState:
        # Pipecat hands every frame to the analyzer's own thread. Here it runs on the event loop: most windows
        # are quiet and only have their loudness measured (tens of microseconds), a scored window costs the model
        # ~0.1 ms, and the hop itself (submit, wake the thread, hand the GIL over and back, resolve the future)
        # cost more than either: at 10 calls on one core the server used ~9% less CPU without it.
        return self._run_analyzer(buffer)


class SharedSmartTurnAnalyzer(LocalSmartTurnAnalyzerV3):
    """Smart-turn v3 end-of-turn model on the process-wide ONNX session and the process-wide thread."""

    def __init__(self, session: onnxruntime.InferenceSession, thread: ThreadPoolExecutor, *,
                 params: SmartTurnParams):
        BaseSmartTurn.__init__(self, params=params)
        self._log_data = False
        self._session = session
        self._thread = thread

    @property
    def _model_executor(self) -> ThreadPoolExecutor:
        return self._thread  # shared by every call: never shut down by one call's cleanup
