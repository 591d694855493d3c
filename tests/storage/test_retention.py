"""Retention on SQLite and PostgreSQL: what ended more than RETENTION_DAYS ago goes, the rest stays."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from loguru import logger
from sqlalchemy import select

from tests.conftest import make_settings
from voiceagent.server import create_app
from voiceagent.storage import Appointment, CallRecordRow, Database, SupportTicket
from voiceagent.storage.calls import save_call_record
from voiceagent.storage.retention import purge, purge_periodically

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def store_call(database: Database, call_sid: str, ended_days_ago: float | None, started_days_ago: float = 0,
               now: datetime = NOW) -> None:
    started = now - timedelta(days=max(started_days_ago, ended_days_ago or 0), minutes=5)
    ended = None if ended_days_ago is None else now - timedelta(days=ended_days_ago)
    save_call_record(database, call_sid=call_sid, caller="***67", started_at=started.timestamp(),
                     ended_at=ended.timestamp() if ended else None, outcome="completed", turns=[], transcript=[],
                     tool_calls=[], usage={}, cost_usd=0.0)


def store_ticket(database: Database, days_ago: float) -> int:
    with database.session() as session:
        ticket = SupportTicket(reason="help", callback_phone="+15551234567",
                               created_at=_naive(NOW - timedelta(days=days_ago)))
        session.add(ticket)
        session.flush()
        return ticket.id


def store_appointment(database: Database, starts: datetime, minutes: int = 30) -> int:
    with database.session() as session:
        appointment = Appointment(starts_at=_naive(starts), duration_minutes=minutes, name="Ann",
                                  phone="+15551234567", status="booked")
        session.add(appointment)
        session.flush()
        return appointment.id


def remaining(database: Database, model) -> set:
    key = model.call_sid if model is CallRecordRow else model.id
    with database.session() as session:
        return set(session.scalars(select(key)))


def write_recording(data_dir, name: str, days_ago: float):
    path = data_dir / "recordings" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"VAREC...")
    stamp = (NOW - timedelta(days=days_ago)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_purge_deletes_what_ended_before_the_cutoff_and_keeps_the_rest(any_database, tmp_path):
    db = any_database
    store_call(db, "CAold", ended_days_ago=31)
    store_call(db, "CArecent", ended_days_ago=29)
    store_call(db, "CAlongcall", ended_days_ago=29, started_days_ago=31)  # started long ago, ended recently
    store_call(db, "CAneverended", ended_days_ago=None, started_days_ago=40)
    old_ticket, new_ticket = store_ticket(db, 31), store_ticket(db, 1)
    cutoff = NOW - timedelta(days=30)
    ended = store_appointment(db, cutoff - timedelta(minutes=31))
    ending_after = store_appointment(db, cutoff - timedelta(minutes=10))  # its 30-minute slot ends after the cutoff
    upcoming = store_appointment(db, NOW + timedelta(days=2))
    old_file = write_recording(tmp_path, "CAold.wav.enc", 31)
    abandoned_part = write_recording(tmp_path, ".CAcrashed.wav.enc.x1.part", 45)  # a crash mid-write
    new_file = write_recording(tmp_path, "CArecent.wav.enc", 29)
    not_a_recording = write_recording(tmp_path, "README.txt", 90)  # the purge deletes recordings only

    report = purge(db, 30, tmp_path, now=NOW)

    assert (report.call_records, report.support_tickets, report.appointments, report.recordings) == (2, 1, 1, 2)
    assert remaining(db, CallRecordRow) == {"CArecent", "CAlongcall"}
    assert remaining(db, SupportTicket) == {new_ticket} and old_ticket not in remaining(db, SupportTicket)
    assert remaining(db, Appointment) == {ending_after, upcoming} and ended not in remaining(db, Appointment)
    assert not old_file.exists() and not abandoned_part.exists() and new_file.exists() and not_a_recording.exists()
    assert purge(db, 30, tmp_path, now=NOW).total == 0  # idempotent


def test_purge_without_a_recordings_folder_deletes_no_file(any_database, tmp_path):
    store_call(any_database, "CAold", ended_days_ago=100)
    report = purge(any_database, 30, tmp_path / "nothing-here", now=NOW)
    assert report.recordings == 0 and report.call_records == 1


async def test_the_job_purges_at_once_and_survives_a_failing_run(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'agent.db'}")
    database.create_all()
    store_call(database, "CAold", ended_days_ago=400)
    job = asyncio.create_task(purge_periodically(database, 30, 3600, tmp_path))
    try:
        for _ in range(500):
            if not remaining(database, CallRecordRow):
                break
            await asyncio.sleep(0.01)
        assert remaining(database, CallRecordRow) == set()
    finally:
        job.cancel()

    errors: list[str] = []
    sink = logger.add(lambda message: errors.append(str(message)), level="ERROR")
    broken = Database(f"sqlite:///{tmp_path / 'no-tables.db'}")  # no create_all: every DELETE fails
    failing = asyncio.create_task(purge_periodically(broken, 30, 3600, tmp_path))
    try:
        for _ in range(500):
            if errors:
                break
            await asyncio.sleep(0.01)
        assert errors and "Retention purge failed (OperationalError" in errors[0]
        assert not failing.done()  # logged, and the job waits for its next run
    finally:
        failing.cancel()
        logger.remove(sink)


def test_the_server_purges_at_start_up(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'agent.db'}")
    database.create_all()
    store_call(database, "CAold", ended_days_ago=31, now=datetime.now(timezone.utc))
    store_call(database, "CAtoday", ended_days_ago=0, now=datetime.now(timezone.utc))
    settings = make_settings(tmp_path, retention_days=30)
    # The lifespan's retention job needs only the runtime's database; no model is loaded for this.
    app = create_app(settings, runtime=SimpleNamespace(database=database))
    with TestClient(app):
        for _ in range(500):
            if "CAold" not in remaining(database, CallRecordRow):
                break
            time.sleep(0.01)
    assert remaining(database, CallRecordRow) == {"CAtoday"}


@pytest.mark.parametrize("days", [0, 3651])
def test_retention_days_out_of_bounds_is_refused(tmp_path, days):
    with pytest.raises(Exception, match="retention_days"):
        make_settings(tmp_path, retention_days=days)
