"""Retention: what ended more than RETENTION_DAYS ago is deleted (rows, and recording files by age)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from loguru import logger
from sqlalchemy import delete, func, select

from voiceagent.storage.database import Database
from voiceagent.storage.models import Appointment, CallRecordRow, SupportTicket
from voiceagent.storage.recordings import purge_folder

RECORDINGS_DIR = "recordings"  # under DATA_DIR, as RecordingStore.from_settings places them
_BATCH = 500


@dataclass
class PurgeReport:
    """How many of each were deleted."""

    call_records: int = 0
    support_tickets: int = 0
    appointments: int = 0
    recordings: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())

    def summary(self) -> str:
        return ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in asdict(self).items())


def cutoff_for(retention_days: int, now: datetime | None = None) -> datetime:
    """The naive UTC moment before which things are past retention (the database stores naive UTC)."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).replace(tzinfo=None) - timedelta(days=retention_days)


def purge_recordings(data_dir: Path | None, cutoff: datetime) -> int:
    """Delete recordings under DATA_DIR/recordings written before `cutoff` (naive UTC); 0 without the folder."""
    folder = Path(data_dir) / RECORDINGS_DIR if data_dir is not None else None
    if folder is None or not folder.is_dir():
        return 0
    return purge_folder(folder, cutoff)


def _ended_appointments(database: Database, cutoff: datetime) -> list[int]:
    # Start + duration in SQL differs between SQLite and PostgreSQL; every ended slot started before the cutoff.
    with database.session() as session:
        rows = session.execute(select(Appointment.id, Appointment.starts_at, Appointment.duration_minutes)
                               .where(Appointment.starts_at < cutoff)).all()
    return [row.id for row in rows if row.starts_at + timedelta(minutes=row.duration_minutes or 0) < cutoff]


def _delete_ids(database: Database, model, ids: list[int]) -> int:
    deleted = 0
    for start in range(0, len(ids), _BATCH):
        with database.session() as session:
            deleted += session.execute(delete(model).where(model.id.in_(ids[start:start + _BATCH]))).rowcount
    return deleted


def purge(database: Database, retention_days: int, data_dir: Path | None = None,
          now: datetime | None = None) -> PurgeReport:
    """Delete call records and tickets older than the cutoff, appointments whose slot ended before it, and
    recording files written before it."""
    cutoff = cutoff_for(retention_days, now)
    report = PurgeReport()
    with database.session() as session:
        ended = func.coalesce(CallRecordRow.ended_at, CallRecordRow.started_at)
        report.call_records = session.execute(delete(CallRecordRow).where(ended < cutoff)).rowcount
        report.support_tickets = session.execute(
            delete(SupportTicket).where(SupportTicket.created_at < cutoff)).rowcount
    report.appointments = _delete_ids(database, Appointment, _ended_appointments(database, cutoff))
    report.recordings = purge_recordings(data_dir, cutoff)
    return report


async def purge_periodically(database: Database, retention_days: int, interval_secs: float,
                             data_dir: Path | None = None) -> None:
    """The server's retention job: a purge at once, then every `interval_secs`; a failed run is logged and retried
    at the next interval, never raised into the server."""
    while True:
        try:
            report = await asyncio.to_thread(purge, database, retention_days, data_dir)
            if report.total:
                logger.info(f"Retention ({retention_days} days): deleted {report.summary()}")
        except Exception as error:
            logger.error(f"Retention purge failed ({type(error).__name__}: {str(error)[:200]}); "
                         f"trying again in {interval_secs:.0f} s")
        await asyncio.sleep(interval_secs)
