"""Full simulated calls through /ws/media and real audio: FAQ, booking over turns, checking, escalation."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from tests.call.helpers import place_call, runtime_with, squash
from tests.conftest import make_settings
from voiceagent.storage import Appointment, CallRecordRow, Database, SupportTicket

pytestmark = pytest.mark.realtime  # every test here places a real-time call


@pytest.fixture
def call_runtime(runtime, tmp_path):
    """The session's models and knowledge base, with a database of this test's own."""
    database = Database(f"sqlite:///{tmp_path / 'calls.db'}")
    database.create_all()
    return runtime_with(runtime, make_settings(tmp_path), database=database)


async def run_call(call_runtime, tmp_path, caller_voice, lines, caller_number="+15551234567"):
    return await place_call(call_runtime, caller_voice, lines, caller_number=caller_number)


def recorded_agent_texts(call_runtime, heard_only: bool = False) -> list[str]:
    """What the agent said in the latest stored call record, word for word (Whisper's hearing of it varies)."""
    with call_runtime.database.session() as session:
        row = session.scalars(select(CallRecordRow).order_by(CallRecordRow.id.desc())).first()
    return [e["text"] for e in json.loads(row.transcript)
            if e["role"] == "agent" and (e.get("heard") or not heard_only)]


async def test_a_pricing_question_is_answered_from_the_knowledge_base(call_runtime, tmp_path, caller_voice):
    report = await run_call(call_runtime, tmp_path, caller_voice, ["Hi, how much does the Pro plan cost?"])
    answer = squash(" ".join(report.replies))  # what the caller heard, as Whisper transcribes it
    assert "99" in answer and "calls" in answer, report.agent_texts
    spoken = recorded_agent_texts(call_runtime, heard_only=True)
    assert any("$99" in text and "10,000" in text for text in spoken), spoken  # the plan's facts, word for word


async def test_booking_over_several_turns_then_checking_it(call_runtime, tmp_path, caller_voice):
    report = await run_call(
        call_runtime,
        tmp_path,
        caller_voice,
        [
            "I'd like to book an appointment.",
            "Next Tuesday at ten thirty in the morning.",
            "My name is John Smith.",
            "Yes, please.",
        ],
    )
    spoken = recorded_agent_texts(call_runtime)
    said = squash(" ".join(spoken))
    assert "whatday" in said and "yourname" in said and "scheduledyourappointment" in said, said
    # The caller heard it through the phone audio: most of the agent's words come back when Whisper tiny
    # transcribes what reached the caller (it mishears some words and numbers of the 8 kHz voice).
    said_words = set(re.findall(r"[a-z]+", " ".join(spoken).lower()))
    heard_words = set(re.findall(r"[a-z]+", " ".join(report.agent_texts).lower()))
    assert "appointment" in heard_words and len(said_words & heard_words) >= 0.5 * len(said_words), (
        sorted(said_words - heard_words), report.agent_texts)
    with call_runtime.database.session() as session:
        booked = session.scalars(select(Appointment)).all()
    assert len(booked) == 1 and booked[0].name.startswith("John") and booked[0].phone == "+15551234567"
    assert (booked[0].starts_at.hour, booked[0].starts_at.minute) in ((15, 30), (14, 30))  # 10:30 New York in UTC

    check = await run_call(call_runtime, tmp_path, caller_voice, ["Can you check my appointment?"])
    assert "appointment" in squash(" ".join(check.agent_texts)), check.agent_texts
    said = squash(" ".join(recorded_agent_texts(call_runtime)))
    assert "youhaveanappointment" in said and "1030" in said, said


def heard_specialist(report) -> bool:
    """The agent's audio, transcribed by Whisper at the caller's end, names a specialist ("special list" at times)."""
    spoken = squash(" ".join(report.agent_texts))
    return "specialist" in spoken or "speciallist" in spoken


async def test_asking_for_a_person_opens_a_ticket(call_runtime, tmp_path, caller_voice):
    report = await run_call(call_runtime, tmp_path, caller_voice, ["I want to talk to a real person, please."])
    assert heard_specialist(report), report.agent_texts
    with call_runtime.database.session() as session:
        ticket = session.scalars(select(SupportTicket)).one()
    assert ticket.callback_phone == "+15551234567" and "real person" in ticket.transcript.lower()
    with call_runtime.database.session() as session:
        call = session.scalars(select(CallRecordRow)).one()
    assert call.outcome == "escalated" and call.caller == "***67"
    assert json.loads(call.tool_calls)[0]["name"] == "escalate_to_human"
    turns = json.loads(call.turns)
    assert turns and all(t["caller_speech_end"] <= t["first_audio_sent"] for t in turns)
    assert "5551234567" not in call.transcript


async def test_keypad_zero_reaches_a_human(call_runtime, tmp_path, caller_voice):
    report = await run_call(call_runtime, tmp_path, caller_voice, ["#0"])
    assert heard_specialist(report), report.agent_texts
