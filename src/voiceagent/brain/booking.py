"""The offline dialog's booking flow: the slots of an appointment over several turns, read back and booked."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from voiceagent.brain.booking_asides import LEAVES, PUT_OFF, PUTS_OFF, TURNS_DOWN, LeavingBooking, confirmation_aside
from voiceagent.brain.offered import (
    ASKS_EDGE,
    as_when_text,
    day_and_clock,
    free_times_spoken,
    offer_question,
    offered_pick,
    time_part,
)
from voiceagent.brain.slots import (
    SPELLING,
    asks_next_opening,
    bare_hour_as_time,
    date_part,
    extract_name,
    extract_phone_digits,
    has_date,
    has_time,
    introduced_name,
    respelled,
    spelled_name,
    turns_down_a_day,
    unasked_name,
    vague_time,
    when_phrase,
    without_rejected_when,
)
from voiceagent.brain.understanding import CLOSING_WORDS, detect_intent
from voiceagent.brain.utterance import Utterance
from voiceagent.shared.phrases import ANYTHING_ELSE, CONFIRM_AGAIN

_WEEK = re.compile(r"\b(next|this) week\b")
# "any of those", "whichever": the caller leaves the choice of the listed times to the agent
_ANY_OF = re.compile(r"\b(any( of (them|those))?|either( one)?|whichever|whatever( works)?|doesn'?t matter|don'?t mind|"
                     r"you (pick|choose))\b")
# A request to book taken back in the same breath
_TAKES_IT_BACK = re.compile(r"\b(no|actually|oh|wait|um)? ?(never ?mind|forget (it|about it|that))\s*$")
# A turn that corrects the read-back ("no, four", "actually Joan")
_CORRECTS = re.compile(r"^((oh|um|wait|sorry|no|nope|actually|make (it|that))\b,? ?)+")
# "Monday then, same time", "same time but on Monday": the hour said before, on the new day
_SAME_TIME = re.compile(r"\b((at|around) )?(the )?same (time|hour)\b")
# "the end of the day" (normalize writes it "afternoon latest"): the day's last free time
_LAST_THING = re.compile(r"\b(latest|last (one|slot|time|appointment))\b")
# "first thing Monday", "as early as you can": the day's first free time
_FIRST_THING = re.compile(r"\b(first thing|as early as (possible|you can)|earliest (time|slot|you have))\b")

# A booking that is new, said after asking for one to be changed or cancelled
NEW_BOOKING = re.compile(r"\b(another|a new|a second|an extra|additional|also book|book (me )?(another|a new))\b")

ASK_WHEN = "Sure, I can book that for you. What day and time would you like?"
ASK_NAME = "Great. Can I have your name, please?"
WHICH_OFFERED = "Sorry, which time would you like? You can say the first one, the second one, or another day and time."
TAKE_OFFERED = "Sorry, would that time work for you? Or tell me another day and time."
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
    offered: list[str] = field(default_factory=list)  # free times the agent offered instead (ISO), in its order
    edge: str = ""  # "first" ("first thing Monday") or "last" ("end of the day"): that free time of the day
    listed: list[str] = field(default_factory=list)  # free times it listed when asking for the hour ("9, 10 or 11")
    warned: bool = False  # the caller said goodbye and was told nothing is booked yet: a second goodbye ends the call
    recalled: bool = False  # the day was said in an earlier request (a change of a booking there was not): named back


class BookingFlow(LeavingBooking):
    """The booking half of `DialogEngine` (which provides state, _ask, _tool, _goodbye, _escalate, _describe_when
    and _free_times): a new appointment over several turns (`BookedAppointments` checks and changes booked ones)."""

    async def _start_booking(self, text: str, recalled: bool = False) -> AsyncIterator[Utterance]:
        """A new booking from the caller's request; `recalled`: `text` is a request said earlier (the day a booking
        they do not have was to move to), its day named back when the time is asked."""
        if _TAKES_IT_BACK.search(text):  # "I wanted to book... no, never mind"
            yield Utterance("No problem. " + ANYTHING_ELSE)
            return
        # "Hi, it's Gary Holt" at the start of the call: the name is not asked for again
        said = next((name for name in map(introduced_name, self.state.history) if name), None)
        self.state.booking = Booking(recalled=recalled, name=said)
        async for utterance in self._continue_booking(text, "book"):
            yield utterance

    async def _continue_booking(self, text: str, intent: str) -> AsyncIterator[Utterance]:
        booking = self.state.booking
        # "great, see you then", "that's all": a goodbye (a yes to the read-back, "yes that's it", books it)
        if CLOSING_WORDS.search(text) and not (has_date(text) or has_time(text)) and not (
                intent == "yes" and (booking.awaiting == "confirm" or booking.offered)):
            async for utterance in self._leave_booking(text, declined=intent == "no"):
                yield utterance
            return
        if booking.warned and (intent == "no" or TURNS_DOWN.search(text)) and not (has_date(text) or has_time(text)):
            async for utterance in self._goodbye(text):  # "nothing is booked yet, shall I?" - "no": they were leaving
                yield utterance
            return
        aside = confirmation_aside(text, self.state.pending_question)
        if aside:  # "and will I get an email about it?" while the booking waits: answered, then its question again
            yield Utterance(aside)
            return
        shown = booking.listed or booking.offered
        edge = ASKS_EDGE.search(text) if shown else None
        if edge:  # "...4 PM or 4:30 PM. Would one of those work?" - "what's the latest you got?"
            async for utterance in self._tell_edge(booking, shown, latest=edge.group("edge").startswith("la")):
                yield utterance
            return
        if not shown and asks_next_opening(text):  # "whens your next opening": the first free times, to pick from
            async for utterance in self._offer_next_opening(booking):
                yield utterance
            return
        listed, booking.listed = booking.listed, []
        any_one = "yes" if _ANY_OF.search(text) else ""  # "any of those is fine": the first (read back, so correctable)
        picked = offered_pick(text, any_one, listed) if not LEAVES.search(text) else None
        if listed and not picked and intent == "yes" and not (has_date(text) or has_time(text)):
            # "...I have 9 AM, 10 AM or 11 AM free." - "yes please": yes to a booking, not to one of the times
            booking.listed = listed
            spoken = re.search(r" I have .* free\.$", self.state.pending_question)
            yield self._ask("Sure, which time would you like?" + (spoken.group(0) if spoken else ""))
            return
        if picked:  # "What time works for you? I have 9 AM, 10 AM or 11 AM free." - "whatever's first"
            booking.when_text = as_when_text(picked)
            async for utterance in self._next_booking_step(booking):
                yield utterance
            return
        if booking.offered and not LEAVES.search(text):  # "...free times are 9:30 AM or 10 AM. Would one of those work?"
            offered, booking.offered = booking.offered, []
            picked = offered_pick(text, intent, offered)
            if picked:
                booking.when_text = as_when_text(picked)
                self._fill_slots(booking, re.sub(r"\b(yes|yeah|first|second|one)\b", " ", text))  # a name given too
                async for utterance in self._next_booking_step(booking):
                    yield utterance
                return
            if not (has_date(text) or has_time(text)):
                if intent == "no":
                    yield self._ask("No problem. What other day and time would work for you?")
                    return
                booking.offered = offered  # a turn with no choice in it ("Mark"): the offer stands
                # "My name is Dorothy Abernathy", or a bare "Mark", is kept
                booking.name = extract_name(text, expecting_name=len(text.split()) <= 3) or booking.name
                yield self._ask(WHICH_OFFERED if len(offered) > 1 else TAKE_OFFERED)
                return
        if booking.awaiting == "confirm":
            if PUTS_OFF.search(text) and not (has_date(text) or has_time(text)):
                self.state.booking = None  # "hold off, I need to check with my boss first", "maybe later"
                yield Utterance(PUT_OFF)
                return
            if _CORRECTS.match(text):  # "no, four", "actually four": a bare hour said as a correction is the time
                text = bare_hour_as_time(text)
            if (intent in ("unsure", "faq") and len(text.split()) <= 4 and detect_intent(text).name in ("yes", "book")
                    and not (has_date(text) or has_time(text))):
                intent = "yes"  # "confirm", "book it": the classifier could not place them, the words are a yes
            if intent == "yes":
                async for utterance in self._book(booking):
                    yield utterance
                return
            spelled = spelled_name(text)
            if spelled and booking.name and not (has_date(text) or has_time(text)):
                booking.name = respelled(booking.name, spelled)  # "no, it's spelled k a t h r y n"
                async for utterance in self._next_booking_step(booking):
                    yield utterance
                return
            kept = without_rejected_when(text)
            if (turns_down_a_day(text) or (_SAME_TIME.search(text) and not has_time(kept))) and not has_date(kept):
                async for utterance in self._ask_other_day(booking, kept):  # "Monday's no good, can we do [lost]..."
                    yield utterance
                return
            if intent == "unsure" and not (has_date(text) or has_time(text) or extract_name(text)):
                yield self._ask(CONFIRM_AGAIN)
                return
            if intent == "no" and not (has_date(text) or has_time(text) or extract_name(text)):
                booking.awaiting = "when"
                booking.rejected_when, booking.when_text = booking.when_text, ""
                yield self._ask("No problem. What day and time would work better?")
                return
        # "Never mind" while asked for a time: the caller is leaving the booking, not answering; asking again kept
        # them in it.
        leaving = booking.awaiting in ("when", "name") and LEAVES.search(text)
        if (leaving or (intent == "no" and booking.awaiting in (None, "when"))) and not (has_date(text) or has_time(text)):
            self.state.booking = None
            yield Utterance("Okay, I won't book anything. " + ANYTHING_ELSE)
            return
        name_before, when_before = booking.name, booking.when_text
        self._fill_slots(booking, text, bare_name=booking.awaiting == "when" and intent in ("unsure", "clarify", "faq"))
        thanked = booking.name != name_before and booking.awaiting == "when" and not booking.offered
        if thanked:  # "What time works?" - "Sam O'Connor": the name is kept and the time asked again, not "Sorry"
            self.state.pending_question = ""
        # "Can I have your name?" - "no sorry, I meant Wednesday": the new time said back, then the name asked again
        moved = booking.awaiting == "name" and booking.when_text != when_before and not booking.name
        async for utterance in self._next_booking_step(booking, moved=moved):
            if thanked and utterance.kind == "answer" and booking.awaiting == "when":
                utterance = Utterance(f"Thanks, {booking.name.split()[0]}. {utterance.text}")
            yield utterance

    def _fill_slots(self, booking: Booking, text: str, bare_name: bool = False) -> None:
        """The day, time, name and number a turn gives; `bare_name`: a turn of a few words that is neither may be
        the name, said before it was asked for."""
        text = without_rejected_when(text)
        if booking.awaiting is not None:
            # "What time works?" - "um, 2?"; "Can I have your name?" - "10 is fine, it's Dana"
            text = bare_hour_as_time(text, digits_only=booking.awaiting != "when")
        if has_date(text) or has_time(text):
            phrase = when_phrase(text)
            previous_date = date_part(booking.when_text or booking.rejected_when)
            if not has_date(text) and previous_date:
                phrase = f"{previous_date} {phrase}"  # "tuesday" ... then "at 2pm"
            # "Saturday around ten" (closed, other times offered) - "Monday then, same time": the hour turned down
            earlier = booking.when_text or (booking.rejected_when if _SAME_TIME.search(text) else "")
            earlier_time = time_part(earlier)
            if not has_time(text) and has_time(earlier_time):
                phrase = f"{_SAME_TIME.sub(' ', phrase)} {earlier_time}"  # "Tuesday at 10", "no, make it Wednesday"
            booking.when_text = phrase
        if _FIRST_THING.search(text):
            booking.edge = "first"
        elif _LAST_THING.search(text):
            booking.edge = "last"
        spelled = spelled_name(text)
        if spelled:  # "it's j o n", "Jon, j o n": the letters are the name (or the word of it they respell)
            text = SPELLING.sub(" ", text)
        name = extract_name(text, expecting_name=booking.awaiting == "name")
        if not name and bare_name and not (has_date(text) or has_time(text)):
            name = unasked_name(text)
        if spelled and (name or booking.awaiting == "name"):
            name = respelled(name, spelled) if name else spelled
        if name and booking.awaiting == "confirm" and booking.name and len(name.split()) < len(booking.name.split()):
            # "no, it's Smyth with a y": the surname corrected, the first name kept ("John Smyth", not "Smyth")
            name = respelled(booking.name, name, cutoff=0.6) or name
        if name:
            booking.name = name
        digits = extract_phone_digits(text)
        if digits:
            booking.phone = digits

    async def _next_booking_step(self, booking: Booking, moved: bool = False) -> AsyncIterator[Utterance]:
        """The booking's next question, or the read-back; `moved`: the caller just changed the time while asked
        for the name (it is said back, so they hear it was taken)."""
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
                elif booking.edge and free.get("slots"):
                    async for utterance in self._take_edge(booking, free["slots"]):
                        yield utterance
                else:
                    booking.listed = list(free.get("slots") or [])
                    question = "What time works for you on that day?"
                    if booking.recalled and booking.listed:  # "yes" to booking one: the day is a turn back
                        question = f"Sure, {await self._day_spoken(booking.listed[0])}. What time works for you?"
                    yield self._ask(question + free_times_spoken(free))
            return
        daypart = vague_time(booking.when_text)
        if daypart:  # "anything tomorrow morning?": the caller picks the hour, the agent does not guess it
            booking.awaiting = "when"
            free = await self._free_times_for(booking.when_text)
            if free.get("error") == "closed":  # "Saturday morning?"
                booking.when_text = ""
                yield self._ask(f"{free['message']} Which other day works for you?")
                return
            if booking.edge and free.get("slots"):
                async for utterance in self._take_edge(booking, free["slots"]):
                    yield utterance
                return
            booking.listed = list(free.get("slots") or [])  # "whatever's earliest" takes the first
            yield self._ask(f"Sure. What time in the {daypart} works for you?" + free_times_spoken(free))
            return
        described = await self._describe_when(booking.when_text) if self._describe_when else {"ok": True, "spoken": booking.when_text}
        if not described.get("ok"):
            booking.awaiting = "when"
            if described.get("error") != "unclear_time":
                yield self._ask(self._offer(booking, described))
                return
            yield self._ask(described.get("message") or "Sorry, that time doesn't work. What other time would you like?")
            return
        if (await self._free_times_for(booking.when_text)).get("error") == "no_day":
            # "do you have anything at noon": which day is asked, not today assumed without a word
            booking.awaiting = "when"
            yield self._ask(f"Sure. Which day would you like to come in at {day_and_clock(described['spoken'])[1]}?")
            return
        if not booking.name:
            booking.awaiting = "name"
            yield self._ask(f"Okay, {described['spoken']}. Can I have your name, please?" if moved else ASK_NAME)
            return
        booking.awaiting = "confirm"
        number = f", and we'll use the number ending in {booking.phone[-4:]}" if booking.phone else ""
        yield self._ask(f"Just to confirm: an appointment for {booking.name}, {described['spoken']}{number}. "
                        "Shall I book it?")

    async def _ask_other_day(self, booking: Booking, text: str) -> AsyncIterator[Utterance]:
        """The day of the read-back turned down with no other day heard: the time kept (or the one said instead),
        the day asked (the old day read back again got a yes that booked it)."""
        said = when_phrase(text) if has_time(text) else booking.when_text
        described = await self._describe_when(said) if self._describe_when else {}
        clock = day_and_clock(described.get("spoken") or "")[1]
        booking.awaiting, booking.rejected_when = "when", booking.when_text
        booking.when_text = time_part(as_when_text(described["starts_at"])) if described.get("starts_at") else ""
        yield self._ask(f"No problem. Which day would you like instead{f', at {clock}' if clock else ''}?")

    async def _tell_edge(self, booking: Booking, shown: list[str], latest: bool) -> AsyncIterator[Utterance]:
        """The latest (or earliest) free time of the day of the times just offered, offered instead: a "yes" then
        takes it, as it takes an offered time."""
        day = date_part(as_when_text(shown[-1] if latest else shown[0]))
        free = await self._free_times_for(f"{day} {'latest' if latest else 'earliest'}")
        if not free.get("slots"):
            yield self._ask(WHICH_OFFERED if len(shown) > 1 else TAKE_OFFERED)
            return
        pick = free["slots"][-1] if latest else free["slots"][0]
        described = await self._describe_when(as_when_text(pick)) if self._describe_when else {}
        booking.offered, booking.listed, booking.awaiting = [pick], [], "when"
        spoken = described.get("spoken") or as_when_text(pick)
        yield self._ask(f"The {'latest' if latest else 'earliest'} I have is {spoken}. Would that work?")

    async def _offer_next_opening(self, booking: Booking) -> AsyncIterator[Utterance]:
        """The first free times, on the first day that has any, listed as a day's are: "the first one" takes it."""
        booking.awaiting = "when"
        free = await self._free_times_for("next available earliest")
        if not free.get("slots"):
            yield self._ask(ASK_WHEN)
            return
        booking.listed = list(free["slots"])
        day = await self._day_spoken(booking.listed[0])
        yield self._ask(f"The next free times are {day} at {free['spoken']}. Which one works for you?")

    async def _day_spoken(self, iso: str) -> str:
        """The day of a free time as the agent says it: "today", "Thursday, February 26th"."""
        described = await self._describe_when(as_when_text(iso)) if self._describe_when else {}
        return day_and_clock(described.get("spoken") or as_when_text(iso))[0]

    async def _take_edge(self, booking: Booking, slots: list[str]) -> AsyncIterator[Utterance]:
        """"First thing Monday" / "end of the day": the day's first or last free time, then on to the name or the
        read-back (which says the time, so the caller can still change it)."""
        iso = slots[0] if booking.edge == "first" else slots[-1]
        booking.edge = ""
        booking.when_text = as_when_text(iso)
        async for utterance in self._next_booking_step(booking):
            yield utterance

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
        yield self._ask(self._offer(booking, result) if result.get("message")
                        else "Sorry, I couldn't book that. What other time would work?")

    @staticmethod
    def _offer(booking: Booking, result: dict) -> str:
        """Why the time asked for won't do and the free times instead, asked as a question; the day asked for
        still holds for an hour said next ("ok, 9:30 then")."""
        alternatives = result.get("alternatives") or []
        booking.offered = list(alternatives)
        booking.rejected_when, booking.when_text = booking.when_text or booking.rejected_when, ""
        return result["message"] + offer_question(alternatives)
