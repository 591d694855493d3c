"""The offline dialog's booking flow: the slots of an appointment over several turns, read back and booked."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from voiceagent.brain.understanding import (
    bare_hour_as_time,
    date_part,
    extract_name,
    extract_phone_digits,
    has_date,
    has_time,
    vague_time,
    when_phrase,
    without_rejected_when,
)
from voiceagent.brain.utterance import Utterance
from voiceagent.shared.phrases import ANYTHING_ELSE, CONFIRM_AGAIN

_WEEK = re.compile(r"\b(next|this) week\b")
# Leaving a booking half-way: the ones that end the call, and the others ("never mind") that only drop it.
_SIGNS_OFF = re.compile(r"\b(good ?bye|bye( bye)?|that'?s all|that is all|i'?ll call (you )?back)\b")
_LEAVES = re.compile(rf"\b(never ?mind|forget (it|about it)|that'?s it)\b|{_SIGNS_OFF.pattern}")

ASK_WHEN = "Sure, I can book that for you. What day and time would you like?"
ASK_NAME = "Great. Can I have your name, please?"
# A booking question asked again word for word (the answer had no day, time or name in it): said differently,
# with an example and the way out, instead of the same words a third time.
ASKED_AGAIN = {
    ASK_WHEN: "Sorry, I didn't catch a day and time. You could say something like Tuesday at 10 AM, or never mind.",
    ASK_NAME: "Sorry, I didn't catch your name. What name should I put the booking under?",
}


@dataclass
class Booking:
    """Slots of an appointment being arranged over several turns."""

    when_text: str = ""
    name: str | None = None
    phone: str | None = None
    awaiting: str | None = None  # "when" | "name" | "phone" | "confirm"
    rejected_when: str = ""  # the last time the caller said no to, whose day may still hold


def _free_times_spoken(free: dict) -> str:
    """' I have 9 AM, 10 AM or 11 AM free.' when the day has free times."""
    return f" I have {free['spoken']} free." if free.get("ok") else ""


class BookingFlow:
    """The booking half of `DialogEngine` (which provides state, _ask, _tool, _goodbye, _describe_when and
    _free_times)."""

    async def _start_booking(self, text: str) -> AsyncIterator[Utterance]:
        self.state.booking = Booking()
        async for utterance in self._continue_booking(text, "book"):
            yield utterance

    async def _continue_booking(self, text: str, intent: str) -> AsyncIterator[Utterance]:
        booking = self.state.booking
        if booking.awaiting == "confirm":
            if intent == "yes":
                async for utterance in self._book(booking):
                    yield utterance
                return
            if intent == "unsure" and not (has_date(text) or has_time(text)):
                yield self._ask(CONFIRM_AGAIN)
                return
            if intent == "no" and not (has_date(text) or has_time(text) or extract_name(text)):
                booking.awaiting = "when"
                booking.rejected_when, booking.when_text = booking.when_text, ""
                yield self._ask("No problem. What day and time would work better?")
                return
        # "No, that's all, bye" while asked for a time (read as neither no nor goodbye when the STT writes "bye"
        # as "Byte"): the caller is leaving the booking, not answering; asking again kept them in it.
        leaving = booking.awaiting in ("when", "name") and _LEAVES.search(text)
        if (leaving or (intent == "no" and booking.awaiting in (None, "when"))) and not (has_date(text) or has_time(text)):
            self.state.booking = None
            if leaving and _SIGNS_OFF.search(text):
                async for utterance in self._goodbye(text):
                    yield utterance
                return
            yield Utterance("Okay, I won't book anything. " + ANYTHING_ELSE)
            return
        self._fill_slots(booking, text)
        async for utterance in self._next_booking_step(booking):
            yield utterance

    def _fill_slots(self, booking: Booking, text: str) -> None:
        text = without_rejected_when(text)
        if booking.awaiting is not None:
            # "What time works?" - "um, 2?"; "Can I have your name?" - "10 is fine, it's Dana"
            text = bare_hour_as_time(text, digits_only=booking.awaiting != "when")
        if has_date(text) or has_time(text):
            phrase = when_phrase(text)
            previous_date = date_part(booking.when_text or booking.rejected_when)
            if not has_date(text) and previous_date:
                phrase = f"{previous_date} {phrase}"  # "tuesday" ... then "at 2pm"
            earlier_time = booking.when_text.replace(date_part(booking.when_text), " ").strip()
            if booking.awaiting == "confirm" and not has_time(text) and has_time(earlier_time):
                phrase = f"{phrase} {earlier_time}"  # read back "Tuesday at 10", "no, Wednesday": same hour
            booking.when_text = phrase
        name = extract_name(text, expecting_name=booking.awaiting == "name")
        if name:
            booking.name = name
        digits = extract_phone_digits(text)
        if digits:
            booking.phone = digits

    async def _next_booking_step(self, booking: Booking) -> AsyncIterator[Utterance]:
        if not booking.when_text:
            booking.awaiting = "when"
            yield self._ask(ASK_WHEN)
            return
        if not has_time(booking.when_text):
            booking.awaiting = "when"
            if _WEEK.search(booking.when_text) and not has_date(_WEEK.sub("", booking.when_text)):  # no day yet
                yield self._ask("Sure. Which day that week, and what time?")
            else:
                free = await self._free_times_for(booking.when_text)
                if free.get("error") == "closed":  # "Saturday?": say so now, not after the caller picks an hour
                    booking.when_text = ""
                    yield self._ask(f"{free['message']} Which other day works for you?")
                else:
                    yield self._ask("What time works for you on that day?" + _free_times_spoken(free))
            return
        daypart = vague_time(booking.when_text)
        if daypart:  # "anything tomorrow morning?": the caller picks the hour, the agent does not guess it
            booking.awaiting = "when"
            yield self._ask(f"Sure. What time in the {daypart} works for you?"
                            + _free_times_spoken(await self._free_times_for(booking.when_text)))
            return
        described = await self._describe_when(booking.when_text) if self._describe_when else {"ok": True, "spoken": booking.when_text}
        if not described.get("ok"):
            booking.awaiting = "when"
            if described.get("error") != "unclear_time":
                booking.when_text = ""
            yield self._ask(described.get("message") or "Sorry, that time doesn't work. What other time would you like?")
            return
        if not booking.name:
            booking.awaiting = "name"
            yield self._ask(ASK_NAME)
            return
        booking.awaiting = "confirm"
        number = f", and we'll use the number ending in {booking.phone[-4:]}" if booking.phone else ""
        yield self._ask(f"Just to confirm: an appointment for {booking.name}, {described['spoken']}{number}. "
                        "Shall I book it?")

    async def _free_times_for(self, when_text: str) -> dict:
        """The free times of the day (and part of it) the caller named ({} when the engine has no calendar)."""
        return await self._free_times(when_text) if self._free_times else {}

    async def _book(self, booking: Booking) -> AsyncIterator[Utterance]:
        arguments = {"date": booking.when_text, "name": booking.name}
        if booking.phone:
            arguments["phone"] = booking.phone
        results: list = []
        async for cue in self._tool("book_appointment", arguments, results):
            yield cue
        result = results[0]
        if result.get("ok"):
            self.state.booking = None
            yield Utterance(result.get("message", "You're all booked.") + " " + ANYTHING_ELSE)
            return
        if result.get("error") == "invalid_phone" or "phone" in str(result.get("error", "")):
            booking.awaiting = "phone"
            booking.phone = None
            yield self._ask((result.get("message") or "That phone number doesn't look right.")
                            + " What number should we use?")
            return
        booking.awaiting = "when"
        booking.when_text = ""
        yield self._ask(result.get("message") or "Sorry, I couldn't book that. What other time would work?")
