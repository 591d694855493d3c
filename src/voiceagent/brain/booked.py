"""The offline dialog's booked appointments: checked for the caller, a change or cancellation handed to a person."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from voiceagent.brain.slots import date_part, extract_phone_digits, has_date
from voiceagent.brain.utterance import Utterance
from voiceagent.shared.phrases import ANYTHING_ELSE, BOOKING_CHANGE_BY_HUMAN

# After asking for a booking to be changed or cancelled: "don't cancel it", "keep it"
KEEPS_IT = re.compile(r"\b(don'?t|do not|no need to) (cancel|change|move)\b|\b(keep|leave) (it|the appointment|my "
                      r"appointment|the booking|my booking)\b")
BOOK_ONE = "Would you like to book one?"  # after "I couldn't find an upcoming appointment": a "yes" books

# "can I move my appointment to Thursday instead": the day (and time) a booking was to move to
_MOVED_TO = re.compile(r"\b(move|moving|reschedul\w*|push|change|switch|shift)\b.*?\b(to|for) (?P<when>.*)")


# "I've got something on the books for Friday, can you tell me what time", "I called earlier about a demo next
# Thursday, did that go through?": a booking the caller already has, asked about (the classifier read "book")
_ASKS_BOOKED = re.compile(r"\bon the books\b|\bdid (that|it|this|my \w+|the \w+) (go through|get (booked|scheduled|"
                          r"made))\b|\b(is|was) (that|it|my \w+) (booked|scheduled|confirmed)\b|\b(i'?ve|i have) got "
                          r"(something|an? \w+) (booked |scheduled )?(with you|for|on)\b.*\bwhat time\b")


# Right after the caller's bookings were read out: "and it's under Priya, right?", "is it under my name?"
_UNDER_NAME = re.compile(r"\b(under|in the name of) (?P<name>[a-z][a-z'-]+( [a-z][a-z'-]+)?)( right| correct| yeah)?$|"
                         r"\b(whose|what|which) name\b.*\b(under|on)\b")


def under_whose_name(text: str, appointments: list[dict]) -> str | None:
    """The answer to a question about the name a just-read booking is under, or None for any other turn."""
    found = _UNDER_NAME.search(text)
    names = [appointment.get("name") or "" for appointment in appointments if appointment.get("name")]
    if not found or not names or has_date(text):
        return None
    asked = (found.group("name") or "").split()
    if not asked or asked[0] in ("my", "me", "the", "it", "that"):
        return f"It's booked under {names[0]}."
    matching = [name for name in names if asked[0] in name.lower().split()]
    return f"Yes, it's under {matching[0]}." if matching else f"It's booked under {names[0]}."


def asks_about_a_booking(text: str) -> bool:
    """Words that ask after a booking the caller made before, not for a new one."""
    return _ASKS_BOOKED.search(text) is not None


def moved_to(text: str) -> str:
    """The day and time a change asks for ("...to thursday instead same time" -> "thursday instead same time"), or
    "" when it names none, or names the booked day too ("move my friday appointment to monday": which day the
    caller wants booked anew is not certain)."""
    match = _MOVED_TO.search(text)
    if not match or not has_date(match.group("when")) or has_date(text[:match.start("when")]):
        return ""
    return match.group("when")


class BookedAppointments:
    """The booked-appointments half of `DialogEngine` (which provides state, _ask, _tool and _escalate)."""

    async def _look_up(self, text: str, results: list) -> AsyncIterator[Utterance]:
        """The caller's upcoming appointments (of the number the call comes from) into `results`."""
        digits = extract_phone_digits(text)
        async for cue in self._tool("check_appointment", {"phone": digits} if digits else {}, results):
            yield cue

    async def _check(self, text: str) -> AsyncIterator[Utterance]:
        results: list = []
        async for cue in self._look_up(text, results):
            yield cue
        result = results[0]
        self.state.checked = bool(result.get("appointments"))  # "can I cancel it?" then means that appointment
        self.state.checked_appointments = list(result.get("appointments") or [])
        if result.get("ok") and not result.get("appointments") and self.state.booking is None:
            # "did that go through?": there is none, so one is offered
            self.state.moved_to = date_part(text)  # "...a demo next Thursday": a yes asks the time that day
            yield self._ask(f"{result['message']} {BOOK_ONE}")
            return
        yield Utterance(result.get("message", "I couldn't look that up right now.") + " " + ANYTHING_ELSE)

    async def _cancel_booking(self, text: str) -> AsyncIterator[Utterance]:
        """A change or cancellation goes to the team as a ticket, naming the appointment; a caller with none
        booked is told so and offered one (a ticket to change nothing only had staff call back for nothing)."""
        results: list = []
        async for cue in self._look_up(text, results):
            yield cue
        found = results[0]
        if found.get("ok") and not found.get("appointments"):
            self.state.moved_to = moved_to(text)  # "...to thursday instead": a yes books Thursday
            yield self._ask(f"{found['message']} {BOOK_ONE}")
            return
        booked = [f"#{appointment['id']} at {appointment['starts_at']}" for appointment in found.get("appointments") or []]
        reason = "caller wants to change or cancel an appointment" + (f" ({', '.join(booked)})" if booked else "")
        opening = f"{found['message']} {BOOKING_CHANGE_BY_HUMAN}" if booked else BOOKING_CHANGE_BY_HUMAN
        async for utterance in self._escalate(reason, text, opening=opening):
            yield utterance
        self.state.change_requested = self.state.handed_over

    async def _add_to_change(self, text: str) -> AsyncIterator[Utterance]:
        """After a change of a booking was handed over: a new day or time ("can we do Thursday instead?"), or
        "don't cancel it", goes to the same ticket; it does not start a second booking."""
        keep = KEEPS_IT.search(text) is not None
        reason = ("caller wants to keep the appointment as it is after all" if keep
                  else "caller would like the appointment moved to the day and time in the transcript")
        results: list = []
        async for cue in self._tool("escalate_to_human", {"reason": reason}, results):
            yield cue
        line = ("Okay, I've added to your request that you'd like to keep your appointment as it is." if keep else
                "Got it. I've added the new day and time to your request, and the specialist will confirm it when "
                "they call you back.")
        yield Utterance(f"{line} {ANYTHING_ELSE}")
