"""What the pages show of a call: summaries, latency percentiles, the per-stage waterfall, transcript lines."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from voiceagent.observability.latency import STAGES

BROWSER_CALL_PREFIX = "WB"  # call ids the softphone mints; Twilio's CallSids start with CA
STAGE_LABELS = {
    "stt_final": "STT final", "end_of_turn": "turn end", "retrieval_done": "retrieval",
    "brain_first_text": "brain first text", "tts_text_sent": "text to TTS", "tts_first_audio": "TTS first audio",
    "first_audio_sent": "first audio sent",
}


def _loads(text: str | None, default):
    try:
        value = json.loads(text) if text else default
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default


def response_latency(turn: dict) -> float | None:
    """End of the caller's speech to the first audio of the reply sent to the line."""
    end, first = turn.get("caller_speech_end"), turn.get("first_audio_sent")
    if not isinstance(end, (int, float)) or not isinstance(first, (int, float)):
        return None
    return first - end


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Stage:
    name: str
    label: str
    start: float  # seconds after the end of the caller's speech
    end: float


def waterfall(turn: dict) -> list[Stage]:
    """The turn's stages in pipeline order, each from the previous stamp to its own (a stage that did not
    happen is left out)."""
    origin = turn.get("caller_speech_end")
    if not isinstance(origin, (int, float)):
        return []
    stages, previous = [], 0.0
    for name in STAGES:
        stamp = turn.get(name)
        if not isinstance(stamp, (int, float)):
            continue
        offset = max(0.0, stamp - origin)
        stages.append(Stage(name, STAGE_LABELS.get(name, name), min(previous, offset), offset))
        previous = max(previous, offset)
    return stages


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=timezone.utc)


@dataclass
class CallSummary:
    """One row of the console's call list."""

    call_sid: str
    started_at: datetime | None
    duration_secs: float | None
    caller: str
    outcome: str
    tools: list[str]
    latencies: list[float] = field(default_factory=list)

    @property
    def via(self) -> str:
        return "browser" if self.call_sid.startswith(BROWSER_CALL_PREFIX) else "phone"

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies, 0.5)

    @property
    def p95(self) -> float | None:
        return percentile(self.latencies, 0.95)


def summarize(row) -> CallSummary:
    """A stored call (CallRecordRow) as the list shows it; bad JSON in a column shows as empty."""
    started, ended = _utc(row.started_at), _utc(row.ended_at)
    tools: list[str] = []
    for call in _loads(row.tool_calls, []):
        name = call.get("name") if isinstance(call, dict) else None
        if isinstance(name, str) and name not in tools:
            tools.append(name)
    turns = [turn for turn in _loads(row.turns, []) if isinstance(turn, dict)]
    return CallSummary(
        call_sid=row.call_sid, started_at=started,
        duration_secs=(ended - started).total_seconds() if started and ended else None,
        caller=row.caller, outcome=row.outcome, tools=tools,
        latencies=[value for value in map(response_latency, turns) if value is not None],
    )


@dataclass
class CallDetail:
    """A call's own page: the summary, what was said and heard, tools with arguments and results, the turns."""

    summary: CallSummary
    transcript: list[dict]
    tool_calls: list[dict]
    turns: list[dict]
    usage: dict
    cost_usd: float

    @property
    def waterfall_scale(self) -> float:
        """Seconds the widest turn spans: every turn's bars share this scale."""
        ends = [stage.end for turn in self.turns for stage in turn["stages"]]
        return max(ends, default=1.0) or 1.0


def detail(row) -> CallDetail:
    transcript: list[dict] = []  # consecutive lines of one speaker grouped; each part keeps its heard state
    started = _utc(row.started_at)
    for entry in _loads(row.transcript, []):
        if not isinstance(entry, dict):
            continue
        role, at = entry.get("role", "?"), entry.get("at")
        part = {"text": str(entry.get("text", "")), "heard": entry.get("heard")}
        if transcript and transcript[-1]["role"] == role:
            transcript[-1]["parts"].append(part)
            continue
        offset = at - started.timestamp() if started and isinstance(at, (int, float)) else None
        transcript.append({"role": role, "offset": offset, "parts": [part]})
    turns = []
    for index, turn in enumerate(t for t in _loads(row.turns, []) if isinstance(t, dict)):
        turns.append({"index": index + 1, "latency": response_latency(turn), "stages": waterfall(turn)})
    tool_calls = [call for call in _loads(row.tool_calls, []) if isinstance(call, dict)]
    return CallDetail(summary=summarize(row), transcript=transcript, tool_calls=tool_calls, turns=turns,
                      usage=_loads(row.usage, {}), cost_usd=row.cost_usd or 0.0)
