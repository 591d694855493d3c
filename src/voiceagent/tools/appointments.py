"""Book and check appointments. A slot is never double-booked: the database's unique index decides."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voiceagent.shared.phrases import NUMBER_HIDDEN, OWN_BOOKINGS_ONLY, TEXT_COMING
from voiceagent.storage import Appointment
from voiceagent.tools.confirmation import booking_reference, text_confirmation
from voiceagent.tools.context import ToolContext
from voiceagent.tools.phone import InvalidPhone, last_digits, normalize_phone
from voiceagent.tools.when import (
    DAYPARTS,
    WEEKDAYS,
    WhenProblem,
    check_bookable,
    next_free_slots,
    resolve_day,
    resolve_when,
    speak_clock_list,
    speak_datetime,
    speak_times,
)


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _aware(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=timezone.utc)


def _taken_slots(ctx: ToolContext, after: datetime) -> set[datetime]:
    with ctx.database.session() as session:
        rows = session.scalars(
            select(Appointment.starts_at).where(Appointment.status == "booked", Appointment.starts_at >= _utc_naive(after))
        ).all()
    return {_aware(row) for row in rows}


def _alternatives(ctx: ToolContext, wanted: datetime, now: datetime) -> list[datetime]:
    """Two free slots near the wanted time: the closest ones on that day, before or after it, when the day has
    any left; otherwise the next ones after it."""
    day = wanted.astimezone(ctx.hours.zone)
    day_start = max(now, day.replace(hour=0, minute=0, second=0, microsecond=0))
    taken = _taken_slots(ctx, day_start)
    same_day = [slot for slot in next_free_slots(day_start, ctx.hours, taken, count=48)
                if slot.astimezone(ctx.hours.zone).date() == day.date()]
    if same_day:
        return sorted(sorted(same_day, key=lambda slot: abs(slot - wanted))[:2])
    return next_free_slots(max(wanted, now), ctx.hours, taken, count=2)


def _insert(ctx: ToolContext, when: datetime, name: str, phone: str) -> tuple[Appointment | None, bool]:
    """(appointment, already_existed); (None, False) when someone else holds the slot."""
    starts = _utc_naive(when)
    with ctx.database.session() as session:
        if ctx.call_sid:
            existing = session.scalars(select(Appointment).where(
                Appointment.starts_at == starts, Appointment.status == "booked",
                Appointment.call_sid == ctx.call_sid, Appointment.phone == phone)).first()
            if existing:
                return existing, True
    try:
        with ctx.database.session() as session:
            appointment = Appointment(starts_at=starts, duration_minutes=ctx.hours.slot_minutes, name=name,
                                      phone=phone, call_sid=ctx.call_sid, status="booked")
            session.add(appointment)
        return appointment, False
    except IntegrityError:
        return None, False


async def _check_time(ctx: ToolContext, text: str, now: datetime) -> datetime | dict:
    """The requested slot, or a failed result explaining why it can't be booked (with free alternatives)."""
    when = resolve_when(text, now, ctx.hours)
    if isinstance(when, WhenProblem):
        return {"ok": False, "error": "unclear_time", "need": when.need, "message": when.message}
    problem = check_bookable(when, now, ctx.hours)
    if problem:
        slots = await asyncio.to_thread(_alternatives, ctx, when, now)
        suggestion = (f" {speak_times(slots, now, ctx.hours)} is free." if len(slots) == 1 else
                      f" The nearest free times are {speak_times(slots, now, ctx.hours)}." if slots else "")
        return {"ok": False, "error": "unavailable_time", "message": problem.message + suggestion,
                "alternatives": [s.isoformat() for s in slots]}
    return when


async def describe_requested_time(ctx: ToolContext, text: str) -> dict:
    """Check a time the caller asked for before confirming it: spoken form, or why it won't work."""
    now = ctx.now()
    when = await _check_time(ctx, text, now)
    if isinstance(when, dict):
        return when
    if when in await asyncio.to_thread(_taken_slots, ctx, when):
        slots = await asyncio.to_thread(_alternatives, ctx, when, now)
        return {"ok": False, "error": "slot_taken", "alternatives": [s.isoformat() for s in slots],
                "message": f"Sorry, {speak_datetime(when, now, ctx.hours)} is already taken. The nearest free times "
                           f"are {speak_times(slots, now, ctx.hours)}."}
    return {"ok": True, "starts_at": when.isoformat(), "spoken": speak_datetime(when, now, ctx.hours)}


async def free_times_on(ctx: ToolContext, text: str, count: int = 3) -> dict:
    """Free times on the day the caller named, within the part of the day they named ("friday", "tomorrow
    afternoon"), on the hour where there are enough, for the agent to offer: {"ok": True, "spoken": "9 AM,
    10 AM or 11 AM"}; {"ok": False} when no day is named, the business is closed that day (with a "message"), or
    nothing is free that day. "next available" names the first day with a free time ("whens your next opening")."""
    now = ctx.now()
    day = resolve_day(text, now, ctx.hours)
    if day is None and re.search(r"\bnext available\b", text.lower()):
        first = next_free_slots(now, ctx.hours, await asyncio.to_thread(_taken_slots, ctx, now), count=1)
        day = first[0].astimezone(ctx.hours.zone).date() if first else None
    if day is None:
        return {"ok": False, "error": "no_day"}
    if day.weekday() not in ctx.hours.days:
        return {"ok": False, "error": "closed", "message": f"We're closed on {WEEKDAYS[day.weekday()].title()}s."}
    low, high = next((span for part, span in DAYPARTS.items() if part in text.lower()), (0, 24))
    start = max(now, datetime.combine(day, time(0), ctx.hours.zone))
    taken = await asyncio.to_thread(_taken_slots, ctx, start)
    slots = [slot for slot in next_free_slots(start, ctx.hours, taken, count=48)
             if slot.astimezone(ctx.hours.zone).date() == day and low <= slot.astimezone(ctx.hours.zone).hour < high]
    if not slots:
        return {"ok": False, "error": "none_free"}
    on_the_hour = [slot for slot in slots if slot.minute == 0]
    if re.search(r"\b(latest|last)\b", text.lower()):  # "the end of the day": the last free times, in order
        picked = slots[-count:]
    elif re.search(r"\b(earliest|first thing)\b", text.lower()):  # the first free times, on the hour or not
        picked = slots[:count]
    else:
        picked = (on_the_hour if len(on_the_hour) >= count else slots)[:count]
    return {"ok": True, "spoken": speak_clock_list(picked, ctx.hours), "slots": [s.isoformat() for s in picked]}


# A tool's docstring is what the LLM reads about it (tools/schema.py). `name` is keyword-only so it can be
# required while the schema keeps the order the LLM has always seen (date, time, name, phone).
async def book_appointment(ctx: ToolContext, date: str, time: str | None = None, *, name: str,
                           phone: str | None = None) -> dict:
    """Book an appointment once the caller has given a day, a time and their name and has confirmed.

    Pass date and time as the caller said them (e.g. 'tomorrow', '2pm'); phone defaults to the caller's number.

    Args:
        date: The day as said, e.g. 'tomorrow', 'next Tuesday', 'the 20th'
        time: The time as said, e.g. '2pm', '10:30' (may be in date)
        name: The caller's name
        phone: Phone number if different from the caller's
    """
    now = ctx.now()
    if not name or not name.strip():
        return {"ok": False, "error": "missing_name", "message": "Can I have your name for the booking?"}
    try:
        number = normalize_phone(phone) if phone else normalize_phone(ctx.caller_phone or "")
    except InvalidPhone as error:
        return {"ok": False, "error": "invalid_phone", "message": str(error)}
    when = await _check_time(ctx, f"{date} {time or ''}", now)
    if isinstance(when, dict):
        return when
    appointment, existed = await asyncio.to_thread(_insert, ctx, when, name.strip(), number)
    spoken = speak_datetime(when, now, ctx.hours)
    if appointment is None:
        slots = await asyncio.to_thread(_alternatives, ctx, when, now)
        return {"ok": False, "error": "slot_taken", "alternatives": [s.isoformat() for s in slots],
                "message": f"Sorry, {spoken} is already taken. The nearest free times are "
                           f"{speak_times(slots, now, ctx.hours)}."}
    # The text goes out before the message is spoken, so the agent promises one only when it was accepted.
    texted = not existed and await text_confirmation(ctx, appointment.id, when, number)
    return {"ok": True, "appointment_id": appointment.id, "starts_at": when.isoformat(), "spoken_when": spoken,
            "already_booked": existed, "phone_last_digits": last_digits(number),
            "reference": booking_reference(appointment.id), "confirmation_text_sent": texted,
            "message": (f"You're already booked for {spoken}." if existed
                        else f"Great! I've scheduled your appointment for {spoken}."
                        + (f" {TEXT_COMING}" if texted else ""))}


def _upcoming(ctx: ToolContext, phone: str, now: datetime) -> list[Appointment]:
    with ctx.database.session() as session:
        return list(session.scalars(select(Appointment).where(
            Appointment.phone == phone, Appointment.status == "booked",
            Appointment.starts_at >= _utc_naive(now - timedelta(minutes=ctx.hours.slot_minutes)),
        ).order_by(Appointment.starts_at)).all())


def _own_number(ctx: ToolContext, asked: str | None) -> str | dict:
    """The caller's own number (the call's verified From), or a refusal to speak: bookings are read out only to
    the number they were booked for, whatever number the caller (or a prompt injection) names."""
    try:
        own = normalize_phone(ctx.caller_phone or "")
    except InvalidPhone:
        return {"ok": False, "error": "caller_number_unknown", "message": NUMBER_HIDDEN}
    if asked:
        try:
            other = normalize_phone(asked) != own
        except InvalidPhone:
            other = True
        if other:
            return {"ok": False, "error": "not_callers_number", "message": OWN_BOOKINGS_ONLY}
    return own


# The docstring is what the LLM reads about this tool (tools/schema.py).
async def check_appointment(ctx: ToolContext, phone: str | None = None) -> dict:
    """Look up the caller's upcoming appointments: only those of the number the call comes from.

    For privacy, another number's bookings are never looked up or read out; asked for one, say so.

    Args:
        phone: Only the caller's own number is accepted; leave empty to use it
    """
    number = _own_number(ctx, phone)
    if isinstance(number, dict):
        return number
    now = ctx.now()
    found = await asyncio.to_thread(_upcoming, ctx, number, now)
    if not found:
        return {"ok": True, "appointments": [], "message": "I couldn't find an upcoming appointment for the "
                f"number ending in {' '.join(last_digits(number))}."}
    spoken = [speak_datetime(_aware(a.starts_at), now, ctx.hours) for a in found]
    listing = spoken[0] if len(spoken) == 1 else ", ".join(spoken[:-1]) + " and " + spoken[-1]
    plural = "an appointment" if len(spoken) == 1 else "appointments"
    return {"ok": True, "appointments": [{"id": a.id, "starts_at": _aware(a.starts_at).isoformat(), "name": a.name}
                                         for a in found],
            "message": f"You have {plural} {listing}."}
