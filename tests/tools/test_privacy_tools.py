"""Privacy in the tools: bookings are read out only to their own number; tickets store no names or numbers in text."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.tools.test_tools import context
from voiceagent.brain.dialog import DialogEngine
from voiceagent.shared.phrases import ANYTHING_ELSE, NUMBER_HIDDEN, OWN_BOOKINGS_ONLY
from voiceagent.storage import Database, SupportTicket
from voiceagent.tools import run_tool

CALLER = "+15551234567"
OTHER = "+15559876543"


@pytest.fixture
def database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'agent.db'}")
    db.create_all()
    return db


async def book(database, caller: str, name: str, time: str, phone: str | None = None, call_sid: str = "CA1"):
    arguments = {"date": "tomorrow", "time": time, "name": name} | ({"phone": phone} if phone else {})
    result = await run_tool(context(database, caller=caller, call_sid=call_sid), "book_appointment", arguments)
    assert result["ok"], result
    return result


@pytest.mark.parametrize("asked", [OTHER, "555 987 6543", "five five five nine eight seven six five four three", "12"])
async def test_another_numbers_bookings_are_never_read_out(database, asked):
    await book(database, OTHER, "Olga Other", "2pm", call_sid="CA2")
    result = await run_tool(context(database, caller=CALLER), "check_appointment", {"phone": asked})
    assert result == {"ok": False, "error": "not_callers_number", "message": OWN_BOOKINGS_ONLY}


@pytest.mark.parametrize("asked", [None, CALLER, "(555) 123-4567", "1 555 123 4567"])
async def test_the_callers_own_number_in_any_form_is_looked_up(database, asked):
    await book(database, CALLER, "Carl Caller", "3pm")
    arguments = {"phone": asked} if asked else {}
    result = await run_tool(context(database, caller=CALLER), "check_appointment", arguments)
    assert result["ok"] and result["message"] == "You have an appointment tomorrow, February 20th at 3 PM."


@pytest.mark.parametrize("caller", [None, "anonymous", ""])
async def test_a_call_without_a_caller_number_looks_nothing_up(database, caller):
    await book(database, CALLER, "Carl Caller", "3pm")
    result = await run_tool(context(database, caller=caller), "check_appointment", {"phone": CALLER})
    assert result == {"ok": False, "error": "caller_number_unknown", "message": NUMBER_HIDDEN}


async def test_booking_for_another_number_creates_but_discloses_nothing(database):
    """Booking for someone else stays allowed: it writes, it reveals nothing of what that number holds."""
    await book(database, OTHER, "Olga Other", "2pm", call_sid="CA2")
    booked = await book(database, CALLER, "Olga Other", "4pm", phone=OTHER)
    assert "appointments" not in booked and not booked["already_booked"] and "2 PM" not in json.dumps(booked)
    refused = await run_tool(context(database, caller=CALLER), "check_appointment", {"phone": OTHER})
    assert refused["error"] == "not_callers_number"
    own = await run_tool(context(database, caller=CALLER), "check_appointment", {})
    assert own["appointments"] == []  # booked for OTHER: theirs, not the caller's
    theirs = await run_tool(context(database, caller=OTHER), "check_appointment", {})
    assert len(theirs["appointments"]) == 2


def test_the_llm_reads_that_only_the_callers_own_bookings_are_looked_up():
    from voiceagent.tools.registry import TOOLS_BY_NAME

    spec = TOOLS_BY_NAME["check_appointment"]
    assert "only those of the number the call comes from" in spec.description
    assert "never looked up" in spec.description
    assert "Only the caller's own number" in spec.parameters["properties"]["phone"]["description"]


@pytest.mark.parametrize("said", ["Can you check the appointment for 555 987 6543?",
                                  "Check my booking, my number is five five five nine eight seven six five four three"])
async def test_the_offline_engine_speaks_the_refusal(database, said):
    await book(database, OTHER, "Olga Other", "2pm", call_sid="CA2")
    ctx = context(database, caller=CALLER)
    engine = DialogEngine("ByteAI", run_tool=lambda name, arguments: run_tool(ctx, name, arguments))
    engine.greeting()
    replies = [utterance.text async for utterance in engine.respond(said) if utterance.kind == "answer"]
    assert replies == [f"{OWN_BOOKINGS_ONLY} {ANYTHING_ELSE}"]
    assert "2 PM" not in " ".join(replies) and "Olga" not in " ".join(replies)


async def test_a_ticket_stores_its_transcript_and_reason_redacted_and_the_callback_number_in_its_column(database):
    said = [{"role": "caller", "text": "Hi, my name is Maria Lopez, call me on 555 222 3333."},
            {"role": "agent", "text": "Thanks Maria. Can I have your name, please?"},
            {"role": "caller", "text": "Dana Fox."}]
    ctx = context(database, caller=CALLER)
    ctx.transcript = lambda: said
    ctx.personal_names = lambda: {"Dana Fox"}
    result = await run_tool(ctx, "escalate_to_human", {"reason": "Dana Fox disputes a bill, 555 222 3333"})
    assert result["ok"]
    with database.session() as session:
        ticket = session.scalars(select(SupportTicket)).one()
    assert ticket.callback_phone == CALLER
    stored = ticket.transcript + ticket.reason
    for secret in ("Maria", "Lopez", "Dana", "Fox", "2223333", "222 3333"):
        assert secret not in stored, (secret, stored)
    texts = [entry["text"] for entry in json.loads(ticket.transcript)]
    assert texts[0] == "Hi, my name is [name], call me on ***33." and texts[2] == "[name]."
    assert ticket.reason == "[name] disputes a bill, ***33"
