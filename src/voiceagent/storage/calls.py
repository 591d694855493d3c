"""Saving finished calls: one row per call, upserted by call SID."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from voiceagent.storage.database import Database
from voiceagent.storage.models import CallRecordRow


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)


def save_call_record(database: Database, *, call_sid: str, caller: str, started_at: float, ended_at: float | None,
                     outcome: str, turns: list, transcript: list, tool_calls: list, usage: dict,
                     cost_usd: float, caller_key: str | None = None) -> None:
    """Insert or update the call's row; `caller` and `transcript` must already be redacted (`caller_key` is the
    keyed hash of the full number, storage/subject.py)."""
    with database.session() as session:
        row = session.scalars(select(CallRecordRow).where(CallRecordRow.call_sid == call_sid)).first()
        if row is None:
            row = CallRecordRow(call_sid=call_sid)
            session.add(row)
        row.caller, row.outcome, row.cost_usd, row.caller_key = caller, outcome, cost_usd, caller_key
        row.started_at, row.ended_at = _utc(started_at), _utc(ended_at)
        row.turns, row.transcript = json.dumps(turns), json.dumps(transcript)
        row.tool_calls, row.usage = json.dumps(tool_calls), json.dumps(usage)
