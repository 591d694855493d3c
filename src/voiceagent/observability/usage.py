"""Adds up the usage Pipecat's services report into the call's ProviderUsage and the usage counters."""

from __future__ import annotations

from pipecat.frames.frames import MetricsFrame
from pipecat.metrics.metrics import LLMUsageMetricsData, STTUsageMetricsData, TTSUsageMetricsData
from pipecat.observers.base_observer import BaseObserver, FramePushed

from voiceagent.shared.usage import ProviderUsage


class UsageObserver(BaseObserver):
    """Adds up the usage metrics Pipecat's services report, once per metrics frame."""

    def __init__(self, usage: ProviderUsage, metrics=None):
        super().__init__(observe_every_push=False)  # each frame once, when first pushed: not once per processor
        self.usage = usage
        self._metrics = metrics
        self._seen: set[int] = set()

    async def on_push_frame(self, data: FramePushed):
        frame = data.frame
        if not isinstance(frame, MetricsFrame) or frame.id in self._seen:
            return
        self._seen.add(frame.id)
        for item in frame.data:
            if isinstance(item, STTUsageMetricsData):
                self._add("stt_seconds", item.value.audio_seconds)
            elif isinstance(item, LLMUsageMetricsData):
                self._add("llm_input_tokens", item.value.prompt_tokens)
                self._add("llm_output_tokens", item.value.completion_tokens)
                self._add("llm_cached_tokens", item.value.cache_read_input_tokens or 0)
            elif isinstance(item, TTSUsageMetricsData):
                self._add("tts_characters", item.value)

    def _add(self, field: str, amount: float) -> None:
        setattr(self.usage, field, getattr(self.usage, field) + amount)
        if self._metrics is not None and amount:
            self._metrics.provider_usage.labels(kind=field).inc(amount)
