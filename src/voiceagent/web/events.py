"""The softphone's side channel: a running call's transcript, turn latencies and outcome as JSON events.

The watcher reads the call's record (observability/live.py) a few times a second and sends what changed, so the
call itself does no work for it. Events: `started`, `line` (sent again when its heard flag changes), `turn`,
`ended`. Text is redacted as the stored transcript is.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field

from voiceagent.observability.live import LiveCalls
from voiceagent.shared.record import CallRecord
from voiceagent.shared.redact import redact_text
from voiceagent.web.views import response_latency, waterfall

POLL_SECS = 0.15
KEEPALIVE_SECS = 15.0


@dataclass
class LiveFeed:
    """What one watcher has been sent of one record; `changes()` gives the rest."""

    record: CallRecord
    lines: list[tuple[str, bool | None]] = field(default_factory=list)
    turns: int = 0
    names: int = 0

    def changes(self) -> list[dict]:
        record, events = self.record, []
        if len(record.personal_names) != self.names:  # a name learnt later is masked in the lines already sent
            self.names, self.lines = len(record.personal_names), []
        for index, entry in enumerate(list(record.transcript)):
            seen = (entry["text"], entry.get("heard"))
            if index < len(self.lines) and self.lines[index] == seen:
                continue
            if index < len(self.lines):
                self.lines[index] = seen
            else:
                self.lines.append(seen)
            events.append({"type": "line", "index": index, "role": entry["role"], "heard": entry.get("heard"),
                           "text": redact_text(entry["text"], record.personal_names), "at": entry.get("at")})
        # Turn stamps are monotonic: shifted to wall-clock time so the page can place them beside the lines.
        to_wall = time.time() - time.monotonic()
        for index, turn in enumerate(record.turns[self.turns:], start=self.turns):
            stamps = asdict(turn)
            speech_end = stamps.get("caller_speech_end")
            events.append({"type": "turn", "index": index, "latency": response_latency(stamps),
                           "speech_end_at": None if speech_end is None else speech_end + to_wall,
                           "stages": [{"name": s.name, "label": s.label, "start": s.start, "end": s.end}
                                      for s in waterfall(stamps)]})
        self.turns = len(record.turns)
        return events


def ended_event(record: CallRecord | None, call_id: str) -> dict:
    if record is None:
        return {"type": "ended", "call_sid": call_id, "outcome": "not_started", "duration": None}
    duration = None if record.ended_at is None else record.ended_at - record.started_at
    return {"type": "ended", "call_sid": call_id, "outcome": record.outcome, "duration": duration,
            "turns": len(record.turns)}


async def call_events(live: LiveCalls, call_id: str, *, start_timeout_secs: float = 60.0,
                      poll_secs: float = POLL_SECS) -> AsyncIterator[dict]:
    """Events of one call until it ends; None values are keep-alives (nothing changed for a while)."""
    record = await live.wait_for(call_id, start_timeout_secs)
    if record is None:
        yield ended_event(None, call_id)
        return
    yield {"type": "started", "call_sid": call_id}
    feed, quiet_since = LiveFeed(record), time.monotonic()
    while True:
        running = live.is_running(record)  # read first: the last changes are sent before `ended`
        events = feed.changes()
        for event in events:
            yield event
        if not running:
            yield ended_event(record, call_id)
            return
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > KEEPALIVE_SECS:
            quiet_since = time.monotonic()
            yield None
        await asyncio.sleep(poll_secs)


async def server_sent_events(events: AsyncIterator[dict | None]) -> AsyncIterator[str]:
    """The events in text/event-stream framing; keep-alives as comments."""
    async for event in events:
        yield ": keep-alive\n\n" if event is None else f"data: {json.dumps(event, separators=(',', ':'))}\n\n"
