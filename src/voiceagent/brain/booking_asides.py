"""What a caller says beside a booking's questions: leaving it half-way (a goodbye, "never mind", "hold off, I need
to check with my boss first"), or a question about the confirmation it brings ("will I get an email?")."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from voiceagent.brain.answers import back_to_booking
from voiceagent.brain.slots import has_date, has_time
from voiceagent.brain.understanding import ASKS_FIRST, SAYS_BYE, SIGNS_OFF
from voiceagent.brain.utterance import Utterance
from voiceagent.shared.phrases import ANYTHING_ELSE

# Putting a booking off ("never mind" drops it; a goodbye is `_leave_booking`'s): "hold off, I need to check with
# my boss first"
_PUTS_OFF = (r"never ?mind|forget (it|about it)|maybe (later|another time|some other time)|not (right )?now|"
             r"(i'?ll|let me) think about it|hold off|(check|talk|speak) (with|to) (my|our|the) \w+( \w+)? first|"
             r"(need to|have to|got to|gotta|let me|i'?ll|i should) (check|talk|speak) (with|to) (my|our|the) \w+|"
             r"run it (by|past) (my|our|the) \w+")
PUTS_OFF = re.compile(rf"\b({_PUTS_OFF})\b")
LEAVES = re.compile(rf"\b({_PUTS_OFF}|that'?s it)\b|{SIGNS_OFF.pattern}")
# A booking turned down, said with a goodbye or after one ("nope, that's it, have a good day"): the call ends
TURNS_DOWN = re.compile(rf"^(no|nope|nah)\b|\b({_PUTS_OFF}|don'?t (book|bother)|wrong number)\b")
# What a booking question opens with, left out when it is asked again after "nothing is booked yet"
_OPENING = re.compile(r"^((Sure, I can book that for you|Great|Sure|(No problem|Okay)(, [^.?]*)?|Thanks, [\w'-]+)\. |"
                      r"Sorry, I didn't [^.?]*\. )+")
NOT_BOOKED_YET = "Just so you know, nothing is booked yet."
# The read-back put off ("hold off, I need to check with my boss first"): nothing booked, and said so
PUT_OFF = f"No problem, I haven't booked anything. Just call us back when you're ready. {ANYTHING_ELSE}"

# "and will I get an email about it or something?", "do you send a reminder?": the tools only store the booking
# (with the caller's number); a confirmation text goes out when the line can send one, which the booking then says
_ASKS_CONFIRMATION = re.compile(r"\b(get|receive|send|sent|there be|is there|have)\b.*\b(e-?mail|text|text message|"
                                r"confirmation|reminder|notification)s?\b|\b(e-?mail|text|remind|notify) (me|us)\b")
NO_EMAIL = ("I can't promise an email or a reminder, sorry: I only save the booking with your phone number. Once "
            "it's booked, I'll tell you if a confirmation text is on its way.")


def confirmation_aside(text: str, pending: str) -> str | None:
    """The answer to a question about the booking's email or reminder, then the booking's question again; None for
    any other turn."""
    if not (ASKS_FIRST.match(text) and _ASKS_CONFIRMATION.search(text)) or has_date(text) or has_time(text):
        return None
    return f"{NO_EMAIL} {back_to_booking(pending)}" if pending else NO_EMAIL


class LeavingBooking:
    """A booking left half-way, for `BookingFlow` (the engine provides state, business_name, _goodbye and
    _next_booking_step)."""

    async def _leave_booking(self, text: str, declined: bool) -> AsyncIterator[Utterance]:
        """A goodbye before the booking is made. The caller may think it is ("great, see you then" when asked for
        the name): they hear that nothing is booked yet and the booking's question again, once; a second goodbye,
        or one that turns the booking down ("nope, that's it, have a good day"), or one before anything was
        chosen, ends the call; one that says bye ends it too, saying nothing was booked."""
        booking = self.state.booking
        under_way = booking.when_text or booking.name or booking.offered or booking.listed or booking.rejected_when
        if declined or TURNS_DOWN.search(text) or booking.warned or not under_way:
            async for utterance in self._goodbye(text):
                yield utterance
            return
        if SAYS_BYE.search(text):
            # "great thanks bye": leaving for sure; told on the way out that nothing was booked, not held on the line
            self.state.booking = None
            yield Utterance(f"Okay, I haven't booked anything. Thanks for calling {self.business_name}. Have a great "
                            "day!", end_call=True)
            return
        booking.warned = True
        if booking.awaiting == "confirm" or not self.state.pending_question:  # the read-back, with what it says
            async for utterance in self._next_booking_step(booking):
                yield Utterance(f"{NOT_BOOKED_YET} {_OPENING.sub('', utterance.text)}") if utterance.kind == "answer" \
                    else utterance
            return
        yield Utterance(f"{NOT_BOOKED_YET} {_OPENING.sub('', self.state.pending_question)}")
