"""Subject access and erasure on SQLite and PostgreSQL: a number's data found, exported, deleted; others' kept."""

from __future__ import annotations

import json
import stat
from datetime import datetime

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from tests.observability.test_logging import restore_default_logging
from voiceagent.cli import app
from voiceagent.storage import Appointment, CallRecordRow, Database, SupportTicket
from voiceagent.storage.calls import save_call_record
from voiceagent.storage.subject import caller_key, data_hash_secret, delete_subject, export_subject, find_subject

CALLER = "+15551234567"
OTHER = "+15559876543"
SECRET = b"test-secret"
TRANSCRIPT = [{"role": "caller", "text": "Hi, my name is [name]."}]


def store_call(database: Database, call_sid: str, number: str, secret: bytes = SECRET) -> None:
    save_call_record(database, call_sid=call_sid, caller=f"***{number[-2:]}", started_at=1_780_000_000.0,
                     ended_at=1_780_000_060.0, outcome="completed", turns=[], transcript=TRANSCRIPT,
                     tool_calls=[{"name": "book_appointment", "ok": True}], usage={}, cost_usd=0.01,
                     caller_key=caller_key(number, secret))


def populate(database: Database, data_dir, secret: bytes = SECRET) -> None:
    """The caller's calls, bookings, tickets and recordings, and another number's."""
    store_call(database, "CAmine1", CALLER, secret)
    store_call(database, "CAmine2", CALLER, secret)
    store_call(database, "CAtheirs", OTHER, secret)
    with database.session() as session:
        session.add_all([
            Appointment(starts_at=_at(10), duration_minutes=30, name="Carl", phone=CALLER, call_sid="CAmine1"),
            Appointment(starts_at=_at(11), duration_minutes=30, name="Olga", phone=OTHER, call_sid="CAmine2"),
            Appointment(starts_at=_at(12), duration_minutes=30, name="Olga", phone=OTHER, call_sid="CAtheirs"),
            SupportTicket(reason="callback", callback_phone=CALLER, call_sid="CAelsewhere"),
            SupportTicket(reason="in my call", callback_phone=OTHER, call_sid="CAmine2"),
            SupportTicket(reason="theirs", callback_phone=OTHER, call_sid="CAtheirs"),
        ])
    folder = data_dir / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("CAmine1.wav.enc", "CAmine1-2.wav.enc", "CAtheirs.wav.enc", "CAmine10.wav.enc"):
        (folder / name).write_bytes(b"VAREC")


def _at(hour: int) -> datetime:
    return datetime(2026, 12, 1, hour, 0)


def test_the_keyed_hash_agrees_across_spellings_and_depends_on_the_secret():
    assert caller_key("+1 (555) 123-4567", SECRET) == caller_key(CALLER, SECRET)
    assert caller_key(CALLER, SECRET) != caller_key(CALLER, b"another secret") != caller_key(OTHER, SECRET)
    assert len(caller_key(CALLER, SECRET)) == 64 and "5551234567" not in caller_key(CALLER, SECRET)
    assert caller_key("anonymous", SECRET) is None and caller_key(None, SECRET) is None


def test_without_a_configured_secret_one_is_created_once_and_kept(tmp_path):
    first = data_hash_secret(None, tmp_path)
    data_hash_secret.cache_clear()
    assert data_hash_secret(None, tmp_path) == first and len(first) == 64
    assert stat.S_IMODE((tmp_path / "data_hash_secret").stat().st_mode) == 0o600
    assert data_hash_secret("configured", tmp_path) == b"configured"


def test_export_holds_the_callers_data_and_nothing_of_others(any_database, tmp_path):
    populate(any_database, tmp_path)
    document = export_subject(find_subject(any_database, CALLER, SECRET, tmp_path))
    json.dumps(document)  # serialisable as it is
    assert [call["call_sid"] for call in document["call_records"]] == ["CAmine1", "CAmine2"]
    assert document["call_records"][0]["transcript"] == TRANSCRIPT  # stored JSON comes back as JSON
    assert [(a["name"], a["phone"]) for a in document["appointments"]] == [("Carl", CALLER)]
    assert sorted(t["reason"] for t in document["support_tickets"]) == ["callback", "in my call"]
    assert document["recordings"] == ["CAmine1-2.wav.enc", "CAmine1.wav.enc"]
    assert "CAtheirs" not in json.dumps(document) and "Olga" not in json.dumps(document)


def test_delete_erases_the_callers_data_and_keeps_others(any_database, tmp_path):
    populate(any_database, tmp_path)
    counts = delete_subject(any_database, find_subject(any_database, CALLER, SECRET, tmp_path))
    assert counts == {"appointments": 1, "support_tickets": 2, "call_records": 2, "recordings": 2}
    with any_database.session() as session:
        assert set(session.scalars(select(CallRecordRow.call_sid))) == {"CAtheirs"}
        assert set(session.scalars(select(Appointment.phone))) == {OTHER}
        assert set(session.scalars(select(SupportTicket.reason))) == {"theirs"}
    assert sorted(p.name for p in (tmp_path / "recordings").iterdir()) == ["CAmine10.wav.enc", "CAtheirs.wav.enc"]
    assert not any(find_subject(any_database, CALLER, SECRET, tmp_path).counts().values())


def test_a_database_from_before_caller_key_gains_the_column(any_database):
    with any_database.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_call_records_caller_key"))
        connection.execute(text("ALTER TABLE call_records DROP COLUMN caller_key"))
    any_database.create_all()
    store_call(any_database, "CAafter", CALLER)
    assert [row.call_sid for row in find_subject(any_database, CALLER, SECRET).call_records] == ["CAafter"]


@pytest.fixture
def cli_env(any_database, tmp_path, monkeypatch):
    """`voiceagent data` against this database, in a folder without a .env."""
    monkeypatch.chdir(tmp_path)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {"DATABASE_URL": any_database.url, "DATA_DIR": str(data_dir), "DATA_HASH_SECRET": SECRET.decode()}
    yield any_database, data_dir, env
    restore_default_logging()  # the commands set up the process's logging


def test_the_export_command_writes_the_json_owner_only(cli_env, tmp_path):
    database, data_dir, env = cli_env
    populate(database, data_dir)
    out = tmp_path / "export.json"
    result = CliRunner().invoke(app, ["data", "export", "--phone", "(555) 123-4567", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["phone"] == CALLER and len(document["call_records"]) == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "Exported: 1 appointments, 2 support tickets, 2 call records, 2 recordings" in result.output


def test_the_delete_command_asks_then_prints_counts(cli_env):
    database, data_dir, env = cli_env
    populate(database, data_dir)
    declined = CliRunner().invoke(app, ["data", "delete", "--phone", CALLER], env=env, input="n\n")
    assert declined.exit_code == 1 and find_subject(database, CALLER, SECRET).call_records
    done = CliRunner().invoke(app, ["data", "delete", "--phone", CALLER, "--yes"], env=env)
    assert done.exit_code == 0, done.output
    assert "Deleted: 1 appointments, 2 support tickets, 2 call records, 2 recordings" in done.output
    assert not find_subject(database, CALLER, SECRET).call_records


def test_a_bad_number_is_refused_with_a_clear_message(cli_env):
    _, _, env = cli_env
    result = CliRunner().invoke(app, ["data", "export", "--phone", "12345"], env=env)
    assert result.exit_code == 2 and "area code" in result.output


def test_the_purge_command_applies_retention(cli_env):
    database, data_dir, env = cli_env
    store_call(database, "CAancient", CALLER)  # 2026-05-28: past 30 days
    result = CliRunner().invoke(app, ["data", "purge"], env=env)
    assert result.exit_code == 0, result.output
    assert "Deleted what ended more than 30 days ago: 1 call records" in result.output
    with database.session() as session:
        assert session.scalars(select(CallRecordRow)).all() == []
