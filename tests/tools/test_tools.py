"""Appointment and escalation tools against a real SQLite file: dates, validation, races, idempotency."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from voiceagent.storage import Appointment, Database, SupportTicket
from voiceagent.tools import BusinessHours, ToolContext, run_tool
from voiceagent.tools.appointments import free_times_on
from voiceagent.tools.phone import InvalidPhone, normalize_phone
from voiceagent.tools.when import check_bookable, resolve_day, resolve_when, speak_datetime

ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 2, 19, 10, 0, tzinfo=ZONE)  # a Thursday
HOURS = BusinessHours()


@pytest.fixture
def database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'agent.db'}")
    db.create_all()
    return db


def context(database, call_sid="CA1", caller="+15551234567", **extra) -> ToolContext:
    return ToolContext(database=database, hours=HOURS, caller_phone=caller, call_sid=call_sid, now=lambda: NOW,
                       transcript=lambda: [{"role": "caller", "text": "I need help"}], **extra)


@pytest.mark.parametrize(
    ("said", "spoken"),
    [
        ("tomorrow at 2pm", "tomorrow, February 20th at 2 PM"),
        ("today at 4", "today at 4 PM"),
        ("next Tuesday morning", "Tuesday, February 24th at 9 AM"),
        ("the 20th at 10:30", "tomorrow, February 20th at 10:30 AM"),
        ("February 20th at 2 p.m.", "tomorrow, February 20th at 2 PM"),
        ("2/20 at 14:00", "tomorrow, February 20th at 2 PM"),
        ("noon tomorrow", "tomorrow, February 20th at noon"),
        ("tomorrow at half past two", "tomorrow, February 20th at 2:30 PM"),
        ("next tuesday at 1030", "Tuesday, February 24th at 10:30 AM"),
        ("Monday at ten thirty am", "Monday, February 23rd at 10:30 AM"),
        ("the 3rd at 9", "Tuesday, March 3rd at 9 AM"),
        ("tuesday at 10 30 in the morning", "Tuesday, February 24th at 10:30 AM"),
        ("tomorrow at 2.30", "tomorrow, February 20th at 2:30 PM"),
    ],
)
def test_dates_and_times_as_callers_say_them(said, spoken):
    when = resolve_when(said, NOW, HOURS)
    assert isinstance(when, datetime), when
    assert speak_datetime(when, NOW, HOURS) == spoken
    assert check_bookable(when, NOW, HOURS) is None


@pytest.mark.parametrize(
    ("said", "problem"),
    [("sunday at 2", "closed on Sundays"), ("tomorrow at 7pm", "9 AM to 5 PM"), ("today at 9am", "already passed"),
     ("tomorrow at 10:20", "every 30 minutes")],
)
def test_unbookable_times_are_explained(said, problem):
    when = resolve_when(said, NOW, HOURS)
    assert problem in check_bookable(when, NOW, HOURS).message


def test_a_day_without_a_time_asks_for_the_time():
    assert resolve_when("next Tuesday", NOW, HOURS).need == "time"


@pytest.mark.parametrize("said", ["(555) 123-4567", "555 123 4567", "+1 555 123 4567", "five five five one two three four five six seven"])
def test_phone_numbers_normalize_to_e164(said):
    assert normalize_phone(said) == "+15551234567"


@pytest.mark.parametrize("said", ["123", "call me maybe", "011 234 5678"])
def test_bad_phone_numbers_are_refused(said):
    with pytest.raises(InvalidPhone):
        normalize_phone(said)


async def test_booking_then_checking(database):
    ctx = context(database)
    booked = await run_tool(ctx, "book_appointment", {"date": "tomorrow", "time": "2pm", "name": "Maria Lopez"})
    assert booked["ok"], booked
    assert booked["message"] == "Great! I've scheduled your appointment for tomorrow, February 20th at 2 PM."
    checked = await run_tool(ctx, "check_appointment", {})
    assert checked["message"] == "You have an appointment tomorrow, February 20th at 2 PM."
    other = await run_tool(context(database, caller="+15559999999"), "check_appointment", {})
    assert other["appointments"] == [] and "9 9 9 9" in other["message"]


async def test_the_same_booking_twice_in_a_call_returns_the_existing_one(database):
    ctx = context(database)
    first = await run_tool(ctx, "book_appointment", {"date": "tomorrow", "time": "2pm", "name": "Maria"})
    again = await run_tool(ctx, "book_appointment", {"date": "tomorrow", "time": "2 pm", "name": "Maria"})
    assert again["ok"] and again["already_booked"] and again["appointment_id"] == first["appointment_id"]
    with database.session() as session:
        assert len(session.scalars(select(Appointment)).all()) == 1


async def test_many_calls_racing_for_one_slot_exactly_one_wins(database):
    contexts = [context(database, call_sid=f"CA{i}", caller=f"+1555000{i:04d}") for i in range(20)]
    results = await asyncio.gather(*(
        run_tool(ctx, "book_appointment", {"date": "tomorrow", "time": "2pm", "name": f"Caller {i}"})
        for i, ctx in enumerate(contexts)))
    assert sum(r["ok"] for r in results) == 1
    losers = [r for r in results if not r["ok"]]
    assert all(r["error"] == "slot_taken" and r["alternatives"] for r in losers)
    assert "2:30 PM" in losers[0]["message"]
    with database.session() as session:
        assert len(session.scalars(select(Appointment)).all()) == 1


async def test_a_refused_time_suggests_the_closest_free_times_of_that_day(database):
    taken = await run_tool(context(database), "book_appointment", {"date": "tomorrow", "time": "2pm", "name": "Ann"})
    assert taken["ok"]
    result = await run_tool(context(database, call_sid="CA9", caller="+15550009999"), "book_appointment",
                            {"date": "tomorrow", "time": "2pm", "name": "Ben"})
    assert "1:30 PM or tomorrow, February 20th at 2:30 PM" in result["message"]  # before and after, same day
    late = await run_tool(context(database), "book_appointment", {"date": "next Friday", "time": "4:45pm", "name": "Cy"})
    assert late["message"].endswith("Friday, February 27th at 4 PM or Friday, February 27th at 4:30 PM.")


async def test_closed_days_suggest_the_next_free_time(database):
    result = await run_tool(context(database), "book_appointment", {"date": "Sunday", "time": "2pm", "name": "Sam"})
    assert not result["ok"]
    assert result["message"].startswith("We're closed on Sundays.")
    assert "Monday, February 23rd at 9 AM" in result["message"]


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("book_appointment", {"date": "tomorrow", "time": "2pm"}),
        ("book_appointment", '{"date": "tomorrow", '),
        ("book_appointment", {"date": "tomorrow", "time": 14, "name": "Sam"}),
        ("book_appointment", {"date": "tomorrow", "time": "2pm", "name": "Sam", "color": "blue"}),
        ("launch_rocket", {}),
        ("check_appointment", ["not", "a", "dict"]),
    ],
)
async def test_invalid_tool_calls_get_a_speakable_error(database, name, arguments):
    result = await run_tool(context(database), name, arguments)
    assert result["ok"] is False and result["error"] == "invalid_arguments" and result["message"]


async def test_bad_phone_in_a_booking_is_refused(database):
    result = await run_tool(context(database), "book_appointment",
                            {"date": "tomorrow", "time": "2pm", "name": "Sam", "phone": "12345"})
    assert result["error"] == "invalid_phone"


async def test_escalation_opens_a_ticket_and_transfers_when_possible(database):
    asked = []

    async def transfer(number):
        asked.append(number)
        return True

    ctx = context(database, transfer_call=transfer, transfer_number="+15550001111")
    result = await run_tool(ctx, "escalate_to_human", {"reason": "billing dispute"})
    assert result["transferred"] and asked == ["+15550001111"]
    assert "connect you with one of our specialists" in result["message"]
    with database.session() as session:
        ticket = session.scalars(select(SupportTicket)).one()
        assert ticket.reason == "billing dispute" and ticket.transferred
        assert json.loads(ticket.transcript)[0]["text"] == "I need help"


@pytest.mark.parametrize("outcome", [False, RuntimeError("line busy")])
async def test_a_failed_transfer_falls_back_to_a_callback(database, outcome):
    async def transfer(number):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    ctx = context(database, transfer_call=transfer, transfer_number="+15550001111")
    result = await run_tool(ctx, "escalate_to_human", {"reason": "help"})
    assert result["ok"] and not result["transferred"]
    assert "call you back at the number ending in 4 5 6 7" in result["message"]


async def test_asked_again_in_the_same_call_the_ticket_is_added_to_not_doubled(database):
    said = [{"role": "caller", "text": "I need to move my appointment"}]
    ctx = ToolContext(database=database, hours=HOURS, caller_phone="+15551234567", call_sid="CA1", now=lambda: NOW,
                      transcript=lambda: list(said))
    first = await run_tool(ctx, "escalate_to_human", {"reason": "caller wants to change an appointment"})
    said.append({"role": "caller", "text": "can we do Thursday instead"})
    again = await run_tool(ctx, "escalate_to_human", {"reason": "caller would like it moved to thursday"})
    assert again["updated"] and again["ticket_id"] == first["ticket_id"] and "added that to your ticket" in again["message"]
    other_call = await run_tool(context(database, call_sid="CA2"), "escalate_to_human", {"reason": "help"})
    assert other_call["ticket_id"] != first["ticket_id"] and not other_call.get("updated")
    with database.session() as session:
        ticket = session.get(SupportTicket, first["ticket_id"])
        assert ticket.reason == "caller wants to change an appointment; caller would like it moved to thursday"
        assert json.loads(ticket.transcript)[-1]["text"] == "can we do Thursday instead"  # the latest words


@pytest.mark.parametrize(("said", "day"), [("next tuesday week at 11", 3), ("a week on tuesday", 3),
                                           ("next tuesday", 24), ("tuesday next week", 24)])
def test_tuesday_week_is_the_one_after_the_coming_tuesday(said, day):
    # "next Tuesday week" was booked for the coming Tuesday (Feb 24) instead of March 3rd
    assert resolve_day(said, NOW, HOURS).day == day


async def test_the_end_of_the_day_lists_the_last_free_times(database):
    free = await free_times_on(context(database), "monday afternoon latest")
    assert free["ok"] and free["slots"][-1].endswith("16:30:00-05:00") and "4:30 PM" in free["spoken"]
