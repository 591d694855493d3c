"""Reading finished calls back: the most recent first, filtered by outcome and start date."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from voiceagent.storage.database import Database
from voiceagent.storage.models import CallRecordRow


def recent_calls(database: Database, *, outcome: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 100) -> list[CallRecordRow]:
    """Calls started in [since, until) (naive UTC), newest first, at most `limit`."""
    query = select(CallRecordRow).order_by(CallRecordRow.started_at.desc(), CallRecordRow.id.desc())
    if outcome:
        query = query.where(CallRecordRow.outcome == outcome)
    if since is not None:
        query = query.where(CallRecordRow.started_at >= since)
    if until is not None:
        query = query.where(CallRecordRow.started_at < until)
    with database.session() as session:
        return list(session.scalars(query.limit(max(1, limit))))


def call_by_sid(database: Database, call_sid: str) -> CallRecordRow | None:
    with database.session() as session:
        return session.scalars(select(CallRecordRow).where(CallRecordRow.call_sid == call_sid)).first()


def outcomes(database: Database) -> list[str]:
    """Every outcome stored, for the console's filter."""
    with database.session() as session:
        return sorted(session.scalars(select(CallRecordRow.outcome).distinct()))
