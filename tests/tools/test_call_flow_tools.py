"""The call flow's tool side: the booking's confirmation text (promised only when it was accepted) and end_call."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from voiceagent.shared.phrases import TEXT_COMING
from voiceagent.storage import Appointment, Database
from voiceagent.tools import BusinessHours, ToolContext, run_tool

NOW = datetime(2026, 2, 19, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # a Thursday
BOOKING = {"date": "tomorrow", "time": "2pm", "name": "Maria Lopez"}


@pytest.fixture
def database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'agent.db'}")
    db.create_all()
    return db


class Texts:
    """A send_text that records what it was asked and answers as told (accepted, refused, or raising)."""

    def __init__(self, answer: bool | Exception = True):
        self.answer = answer
        self.sent: list[tuple[str, str]] = []

    async def __call__(self, to: str, body: str) -> bool:
        self.sent.append((to, body))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def context(database, **extra) -> ToolContext:
    return ToolContext(database=database, hours=BusinessHours(), caller_phone="+15551234567", call_sid="CA1",
                       now=lambda: NOW, business_name="ByteAI", **extra)


async def test_an_accepted_text_is_promised_with_date_time_and_reference(database):
    texts = Texts(True)
    booked = await run_tool(context(database, send_text=texts), "book_appointment", BOOKING)
    assert booked["ok"] and booked["confirmation_text_sent"] is True
    assert booked["message"] == f"Great! I've scheduled your appointment for tomorrow, February 20th at 2 PM. {TEXT_COMING}"
    (to, body), = texts.sent
    assert to == "+15551234567"
    assert "Friday, February 20, 2026 at 2:00 PM (EST)" in body and booked["reference"] in body
    assert booked["reference"] == f"BK-{booked['appointment_id']:05d}" and "ByteAI" in body
    assert "Maria" not in body  # a text can be read by anyone holding the phone: no name


async def test_a_text_to_another_booking_number_goes_to_that_number(database):
    texts = Texts(True)
    await run_tool(context(database, send_text=texts), "book_appointment", {**BOOKING, "phone": "(555) 987-6543"})
    assert texts.sent[0][0] == "+15559876543"


@pytest.mark.parametrize("answer", [False, OSError("network down")], ids=["refused", "raised"])
async def test_a_failed_text_never_fails_the_booking_and_is_not_promised(database, answer):
    texts = Texts(answer)
    booked = await run_tool(context(database, send_text=texts), "book_appointment", BOOKING)
    assert booked["ok"] and booked["confirmation_text_sent"] is False and len(texts.sent) == 1
    assert "text" not in booked["message"].lower()
    with database.session() as session:
        assert session.get(Appointment, booked["appointment_id"]).status == "booked"


async def test_no_sender_no_promise_and_no_second_text_for_the_same_booking(database):
    booked = await run_tool(context(database), "book_appointment", BOOKING)
    assert booked["ok"] and "text" not in booked["message"].lower()
    texts = Texts(True)
    again = await run_tool(context(database, send_text=texts), "book_appointment", BOOKING)
    assert again["already_booked"] and texts.sent == [] and "text" not in again["message"].lower()


async def test_end_call_marks_the_call_as_closing(database):
    ended: list[bool] = []
    result = await run_tool(context(database, on_end_call=lambda: ended.append(True)), "end_call", {})
    assert result == {"ok": True, "ending": True, "message": ""} and ended == [True]
    unavailable = await run_tool(context(database), "end_call", {})
    assert unavailable["ok"] is False
    refused = await run_tool(context(database, on_end_call=lambda: ended.append(True)), "end_call", {"now": True})
    assert refused["error"] == "invalid_arguments" and ended == [True]  # it takes no arguments
