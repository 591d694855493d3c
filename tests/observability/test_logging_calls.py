"""A whole booking call at DEBUG: not one log line, the agent's or Pipecat's, holds the number or the name."""

from __future__ import annotations

import dataclasses

import pytest
from loguru import logger
from sqlalchemy import select

from tests.call.helpers import place_call
from tests.conftest import make_settings
from tests.observability.test_logging import restore_default_logging
from voiceagent.observability.logging import configure_logging
from voiceagent.storage import Appointment, Database
from voiceagent.storage.subject import data_hash_secret, find_subject

CALLER = "+15551234567"


@pytest.mark.realtime
async def test_a_booking_call_at_debug_logs_no_number_and_no_name(runtime, caller_voice, tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'calls.db'}")
    database.create_all()
    settings = make_settings(tmp_path, log_level="DEBUG")
    call_runtime = dataclasses.replace(runtime, settings=settings, database=database)  # the served offline brain
    lines: list[str] = []
    configure_logging("DEBUG")
    # Every line as any sink could write it: the message, its extras, its module.
    logger.add(lambda message: lines.append(str(message)), level="TRACE", format="{name} {level} {message} {extra}")
    try:
        await place_call(call_runtime, caller_voice, [
            "I'd like to book an appointment.",
            "Next Tuesday at ten thirty in the morning.",
            "My name is John Smith.",
            "Yes, please.",
        ], caller_number=CALLER)
    finally:
        restore_default_logging()
    with database.session() as session:
        booked = session.scalars(select(Appointment)).all()
    assert len(booked) == 1 and booked[0].name.startswith("John") and booked[0].phone == CALLER  # it did book
    assert any(line.startswith("pipecat.") and " DEBUG " in line for line in lines)  # Pipecat's DEBUG was on
    assert len(lines) > 50, len(lines)
    leaks = [line for line in lines if any(secret in line for secret in ("5551234567", "John", "Smith"))]
    assert not leaks, leaks[:5]
    # The call's record is linkable to the number for export and erasure (its keyed hash, not the number).
    found = find_subject(database, CALLER, data_hash_secret(None, settings.data_dir), settings.data_dir)
    assert [row.caller for row in found.call_records] == ["***67"] and len(found.appointments) == 1
    assert "John" not in found.call_records[0].transcript and "[name]" in found.call_records[0].transcript
