"""A caller's data (subject access and erasure): everything held about one phone number, found, exported, deleted.

Call records keep the caller's number only redacted (`***67`); `caller_key`, an HMAC-SHA256 of the full number
under DATA_HASH_SECRET, is what links them to a number without storing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, or_, select

from voiceagent.storage.database import Database
from voiceagent.storage.models import Appointment, CallRecordRow, SupportTicket
from voiceagent.storage.retention import RECORDINGS_DIR

SECRET_FILE = "data_hash_secret"
_JSON_COLUMNS = {"transcript", "turns", "tool_calls", "usage"}


@lru_cache(maxsize=16)  # read once per process, not at every call's end
def data_hash_secret(configured: str | None, data_dir: Path) -> bytes:
    """DATA_HASH_SECRET when set; else a random key created once in DATA_DIR/data_hash_secret (mode 0600), the
    same for the server and the `voiceagent data` commands that share the folder."""
    if configured:
        return configured.encode()
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        _create_secret_file(path)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it (call records made since cannot be linked) or set "
                           "DATA_HASH_SECRET")
    return key.encode()


def _create_secret_file(path: Path) -> None:
    """Write a new key beside `path`, then link it into place: the link fails if another process (a worker starting
    at the same moment) got there first, and nobody ever reads a file that is created but not yet written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(handle, "w") as file:
            file.write(secrets.token_hex(32))
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)


def caller_key(number: str | None, secret: bytes) -> str | None:
    """HMAC-SHA256 of the number's digits ('+1 555-123-4567' and '+15551234567' agree); None without a number."""
    digits = re.sub(r"\D", "", number or "")
    if len(digits) < 4:
        return None
    return hmac.new(secret, f"+{digits}".encode(), hashlib.sha256).hexdigest()


@dataclass
class SubjectData:
    """What is held about one number: rows by table, and recording files of its calls."""

    phone: str
    appointments: list[Appointment] = field(default_factory=list)
    support_tickets: list[SupportTicket] = field(default_factory=list)
    call_records: list[CallRecordRow] = field(default_factory=list)
    recordings: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"appointments": len(self.appointments), "support_tickets": len(self.support_tickets),
                "call_records": len(self.call_records), "recordings": len(self.recordings)}


def _recordings_of(data_dir: Path | None, call_sids: list[str]) -> list[Path]:
    """Recording files named after one of the calls ('<CallSid>.wav.enc', '<CallSid>-2.wav.enc')."""
    folder = Path(data_dir) / RECORDINGS_DIR if data_dir is not None else None
    if folder is None or not folder.is_dir() or not call_sids:
        return []
    wanted = set(call_sids)
    return sorted(path for path in folder.rglob("*") if path.is_file()
                  and re.split(r"[.-]", path.name.lstrip("."), maxsplit=1)[0] in wanted)


def find_subject(database: Database, phone: str, secret: bytes, data_dir: Path | None = None) -> SubjectData:
    """Appointments booked for `phone` (E.164), call records whose caller it was, tickets with it as callback
    number or opened in one of those calls, and those calls' recordings."""
    key = caller_key(phone, secret)
    with database.session() as session:
        calls = list(session.scalars(select(CallRecordRow).where(CallRecordRow.caller_key == key)
                                     .order_by(CallRecordRow.started_at))) if key else []
        call_sids = [call.call_sid for call in calls]
        tickets = list(session.scalars(select(SupportTicket).where(or_(
            SupportTicket.callback_phone == phone, SupportTicket.call_sid.in_(call_sids)))
            .order_by(SupportTicket.created_at)))
        appointments = list(session.scalars(select(Appointment).where(Appointment.phone == phone)
                                            .order_by(Appointment.starts_at)))
    return SubjectData(phone, appointments, tickets, calls, _recordings_of(data_dir, call_sids))


def _as_dict(row) -> dict:
    result = {}
    for column in row.__table__.columns:
        value = getattr(row, column.name)
        if isinstance(value, datetime):
            value = value.isoformat() + "Z"  # stored as naive UTC
        elif column.name in _JSON_COLUMNS and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        result[column.name] = value
    return result


def export_subject(data: SubjectData) -> dict:
    """The JSON document of a subject access request (recordings by file name: they are encrypted audio)."""
    return {
        "phone": data.phone,
        "appointments": [_as_dict(row) for row in data.appointments],
        "support_tickets": [_as_dict(row) for row in data.support_tickets],
        "call_records": [_as_dict(row) for row in data.call_records],
        "recordings": [path.name for path in data.recordings],
        "notes": "Call records keep the caller's number redacted and are found by a keyed hash of it; records "
                 "made before that hash was stored cannot be linked to a number. Times are UTC.",
    }


def delete_subject(database: Database, data: SubjectData) -> dict[str, int]:
    """Erase what `find_subject` found, in one transaction for the rows; returns the counts deleted."""
    counts = {}
    with database.session() as session:
        for name, model, rows in (("appointments", Appointment, data.appointments),
                                  ("support_tickets", SupportTicket, data.support_tickets),
                                  ("call_records", CallRecordRow, data.call_records)):
            ids = [row.id for row in rows]
            counts[name] = session.execute(delete(model).where(model.id.in_(ids))).rowcount if ids else 0
    removed = 0
    for path in data.recordings:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    counts["recordings"] = removed
    return counts
