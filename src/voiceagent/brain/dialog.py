"""The offline dialog engine: deterministic intent + slot handling that answers like an LLM would."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from voiceagent.brain.after_answers import AfterAnswers
from voiceagent.brain.answers import FaqAnswers, KnowledgeLookup, back_to_booking, later_sentences
from voiceagent.brain.booked import BOOK_ONE, KEEPS_IT, BookedAppointments, under_whose_name
from voiceagent.brain.booking import ASKED_AGAIN, NEW_BOOKING, Booking, BookingFlow
from voiceagent.brain.booking_asides import PUTS_OFF
from voiceagent.brain.heard import with_business_name
from voiceagent.brain.intents import IntentClassifier, understand
from voiceagent.brain.offered import asks_about_the_free_times
from voiceagent.brain.slots import extract_phone_digits, has_date, has_time
from voiceagent.brain.understanding import (
    ASKS_FIRST,
    CLOSING_WORDS,
    NAMES_A_PERSON,
    SAYS_GOODBYE,
    Intent,
    acknowledges,
    asks_about_the_appointment,
    asks_about_the_business,
    asks_how_agent_is,
    asks_to_ask,
    asks_to_repeat,
    asks_to_wait,
    asks_what_business_does,
    asks_who_is_speaking,
    checks_presence,
    detect_intent,
    normalize,
    takes_in,
    topic_only,
)
from voiceagent.brain.utterance import Utterance
from voiceagent.shared.phrases import (
    ALREADY_HANDED_OVER,
    ANYTHING_ELSE,
    CLOSING,
    DID_NOT_CATCH,
    LISTENING_CUE,
    MAX_NOT_UNDERSTOOD,
    WELCOME,
    greeting_line,
)

CUE_AFTER_SECS = 0.3
_STARTS_YES = re.compile(r"^(yes|yeah|yep|yup|sure|correct|right)\b")
_CHANGES_IT = re.compile(r"\b(cancel|move|reschedule|change|push)\b.{0,20}\b(it|that|this|them|the appointment|"
                         r"my appointment)\b")
_HELLO = re.compile(r"^((hi|hello|hey|hiya|yo|good (morning|afternoon|evening))( there)?,? )+")
# "could you make it an hour earlier", "bump it back a day": the booking just read out, moved (read as "book" too)
_SHIFTS_IT = re.compile(r"\b(an?|one|two|half an?) (hour|day|week)s? (later|earlier|sooner|back|forward)\b|"
                        r"\b(push|bump|move|shift)( it| that)? (back|forward|up|later|earlier)\b")
_URGENT = re.compile(r"(it'?s )?(now|right now|asap|immediately|urgent|it'?s urgent|hurry( up)?|quickly|today)( please)?")
_PRICE_TOPIC = re.compile(r"((the|your|our) )?(price|prices|pricing|cost|costs|plans?|plan prices)")
ABOUT_APPOINTMENT = "It's a {minutes}-minute consultation with one of our specialists."

ToolRunner = Callable[[str, dict], Awaitable[dict]]


@dataclass
class DialogState:
    not_understood: int = 0
    booking: Booking | None = None
    escalated: bool = False
    handed_over: bool = False  # a specialist will call back (a ticket is open): asking again opens no second one
    change_requested: bool = False  # a change of a booking was handed over: a new time said next goes to it
    checked: bool = False  # the caller's appointments were just read out: "cancel it" means one of them
    checked_appointments: list = field(default_factory=list)  # ...and what they were (their names, "under Priya?")
    moved_to: str = ""  # the day a change asked for, when there was no booking to change: a yes to booking one keeps it
    pending_question: str = ""
    history: list[str] = field(default_factory=list)
    last_reply: str = ""  # what the agent said last, for "sorry, can you repeat that?"
    last_question: str = ""  # the caller's last question the FAQ answered, for a follow-up that leans on it
    last_answer_id: str = ""  # the FAQ entry of the last answer: asked again, it goes on with the rest
    last_answer: str = ""  # that entry's whole answer, for a follow-up it already covers


# An answer that offers a person: a "yes" to it is a yes to the hand-off.
_OFFERS_A_PERSON = re.compile(r"\b(connect you|put you through|transfer you)\b.{0,40}\b(specialist|person|someone|"
                              r"team|human|agent)\b", re.IGNORECASE)
# ...unless it is one side of a choice ("Is there something else you'd like to know, or should I connect you with a
# specialist?", "Or I can connect you with a specialist."): there "ok cool" takes in the answer, it picks nothing
_EITHER_OR = re.compile(r"(^|,\s*)or\b", re.IGNORECASE)


class DialogEngine(FaqAnswers, BookingFlow, BookedAppointments, AfterAnswers):
    """One engine per call; holds the conversation state of that call."""

    def __init__(self, business_name: str = "ByteAI", knowledge: KnowledgeLookup | None = None,
                 run_tool: ToolRunner | None = None, describe_when: Callable[[str], Awaitable[dict]] | None = None,
                 free_times: Callable[[str], Awaitable[dict]] | None = None,
                 intents: IntentClassifier | None = None, recording_notice: bool = False,
                 appointment_minutes: int = 30):
        self.business_name = business_name
        self.appointment_minutes = appointment_minutes
        self._recording_notice = recording_notice  # RECORD_CALLS: the greeting tells the caller
        self._knowledge = knowledge
        self._run_tool = run_tool
        self._describe_when = describe_when
        self._free_times = free_times
        self._intents = intents  # None: the regex layer alone (tests of it, tools that build no embedder)
        self.state = DialogState()

    @property
    def not_understood(self) -> int:
        return self.state.not_understood

    def greeting(self) -> str:
        self.state.last_reply = greeting_line(self.business_name, recorded=self._recording_notice)
        return self.state.last_reply

    def forget_unheard(self, text: str) -> None:
        """The caller never heard `text`; a question in it is no longer pending."""
        if text.strip() and text.strip() in self.state.pending_question:
            self.state.pending_question = ""
            if self.state.booking and self.state.booking.awaiting == "confirm":
                self.state.booking.awaiting = None

    async def on_keypress(self, digit: str) -> AsyncIterator[Utterance]:
        """Keypad input: 0 reaches a human, as on most phone menus; other keys get a spoken hint."""
        if digit == "0":
            async for utterance in self._escalate("caller pressed 0 for a human", ""):
                yield utterance
            return
        yield Utterance("You can just tell me what you need, or press 0 to reach a person.")

    async def respond(self, caller_text: str, unanswered: str = "") -> AsyncIterator[Utterance]:
        """Yield the agent's reply to one caller turn, piece by piece; "sorry, what was that?" hears the
        last reply again (a phone line drops words), whatever was being asked stays asked."""
        text = with_business_name(normalize(caller_text), self.business_name)
        if asks_to_repeat(text):
            yield Utterance(f"Sure. {self.state.last_reply or 'How can I help you today?'}")
            return
        spoken = []
        async for utterance in self._turn(text, unanswered):
            if utterance.kind == "answer":
                spoken.append(utterance.text)
            if utterance.text.endswith(ANYTHING_ELSE):  # on every path (a hand-off's "anything else?" too)
                self.state.pending_question = ANYTHING_ELSE
            yield utterance
        if spoken:  # what "what?" says again, whichever path answered
            self.state.last_reply = " ".join(spoken)

    async def _turn(self, text: str, unanswered: str) -> AsyncIterator[Utterance]:
        caller_text = text
        if asks_to_wait(text):
            yield Utterance("Sure, take your time.")  # whatever was asked stays asked
            return
        about = asks_about_the_business(text, self.business_name) if self.state.booking is None else None
        if about == "identity":
            yield Utterance(f"Yes, this is {self.business_name}. I'm the AI assistant. How can I help you today?")
            return
        if about == "elsewhere":
            yield Utterance(f"No, this is {self.business_name}. I'm the AI assistant, so you may have the wrong number. "
                            "Is there anything I can help you with?")
            return
        if asks_to_ask(text):
            yield Utterance("Sure, go ahead. What would you like to know?")
            return
        if asks_who_is_speaking(text):
            yield Utterance(f"I'm {self.business_name}'s AI assistant. I can answer questions, book appointments, or "
                            "connect you with a person. How can I help?")
            return
        about_before = ABOUT_APPOINTMENT.split("}")[-1] in self.state.last_reply  # "how long is it?" after it
        if asks_about_the_appointment(text, booking=self.state.booking is not None or about_before):
            # "Wait, how long is the appointment?": what one is, then whatever was being asked
            about = ABOUT_APPOINTMENT.format(minutes=self.appointment_minutes)
            pending = self.state.pending_question
            if self.state.booking is not None and pending:
                yield Utterance(f"{about} {back_to_booking(pending)}")
            else:
                yield Utterance(f"{about} Just tell me a day and time if you'd like to book one.")
            return
        if checks_presence(text):
            yield Utterance(f"Yes, I'm here. {self.state.pending_question or 'How can I help you today?'}")
            return
        handled: list = []
        async for utterance in self._after_answer(text, caller_text, handled):
            yield utterance
        if handled[-1]:
            return
        if (asks_what_business_does(text) or about == "what") and self.state.booking is None and self._knowledge is not None:
            text = normalize(f"What does {self.business_name} do?")  # the question the FAQ answers in its own words
            caller_text = text
        topic = topic_only(text) if self.state.booking is None else None
        if topic and _PRICE_TOPIC.fullmatch(topic) and self._knowledge is not None:
            # "I wanted to ask about price": the question the FAQ answers about prices, not "what about price?"
            text = caller_text = normalize(f"How much does {self.business_name} cost?")
            topic = None
        if topic:
            self.state.last_question = topic  # "For the business one" then leans on it
            yield Utterance(f"Sure, I can help with that. What would you like to know about {topic}?")
            return
        async for utterance in self._respond(caller_text, unanswered):
            yield utterance

    async def _respond(self, caller_text: str, unanswered: str = "") -> AsyncIterator[Utterance]:
        """Yield the agent's reply to one caller turn, piece by piece.

        `unanswered` is what the caller said just before, whose reply they never heard (they went on
        talking). A short fragment such as "please" or "per month" then completes that sentence.
        """
        text = normalize(caller_text)
        if unanswered and self._completes(text):
            text = normalize(f"{unanswered} {caller_text}")
        if not re.search(r"[a-z0-9]", text):
            async for utterance in self._not_understood():
                yield utterance
            return
        question = _HELLO.sub("", text)
        if question != text and ASKS_FIRST.match(question) and not asks_how_agent_is(text):
            text = question  # "hey how much is it", "good morning is it down": the hello read as the question's
        self.state.history.append(text)
        checked, self.state.checked = self.state.checked, False  # only the turn right after the read-out leans on it
        intent = await self._read_intent(text)
        booking = self.state.booking
        if self.state.booking is not None and intent.name == "escalate" and (
                PUTS_OFF.search(text) or not NAMES_A_PERSON.search(text)):
            # "let me talk to my wife first": the booking put off; "can you look in?" (a name the line garbled) asks
            # for nobody
            intent = Intent("unsure", intent.frustrated)
        if intent.name == "escalate" or (intent.frustrated and intent.name not in ("goodbye", "thanks")):
            reason = "caller asked for a human" if intent.name == "escalate" else "caller is frustrated"
            async for utterance in self._escalate(reason, caller_text):
                yield utterance
            return
        if booking is None and self.state.change_requested and (
                KEEPS_IT.search(text) or ((has_date(text) or has_time(text)) and not NEW_BOOKING.search(text)
                                          and intent.name not in ("check", "escalate", "goodbye"))):
            async for utterance in self._add_to_change(text):
                yield utterance
            return
        if booking is None and intent.name == "goodbye" and _STARTS_YES.match(text) and not CLOSING_WORDS.search(text):
            intent = Intent("yes", intent.frustrated)  # "yes, this number is fine" hung up the call
        under = under_whose_name(text, self.state.checked_appointments) if checked and booking is None else None
        if under:
            yield Utterance(f"{under} {ANYTHING_ELSE}")
            return
        if booking is None and checked and ((_CHANGES_IT.search(text) and intent.name != "book") or (
                _SHIFTS_IT.search(text) and not NEW_BOOKING.search(text))):
            intent = Intent("cancel_booking", intent.frustrated)  # "can I cancel it?" right after it was read out
        if self.state.handed_over and _URGENT.fullmatch(text):
            async for utterance in self._escalate("caller says it is urgent", caller_text):
                yield utterance
            return
        if booking is None and intent.name in ("no", "thanks", "clarify", "greeting") and CLOSING_WORDS.search(text):
            intent = Intent("goodbye", intent.frustrated)  # "no, that's it", "cool, talk later", "wrong number, sorry"
        if booking is None and intent.name in ("clarify", "greeting") and acknowledges(text):
            intent = Intent("yes", intent.frustrated)  # "sweet", "good": taking in the answer, not a new question
        if booking is not None and intent.name == "goodbye" and not SAYS_GOODBYE.search(text):
            intent = Intent("unsure", intent.frustrated)  # "ok" or "thanks" half-way through a booking is no goodbye
        if (booking is not None and booking.awaiting and intent.name == "faq" and not intent.doubtful
                and not asks_about_the_free_times(text)):  # "what's the latest you have?" is the booking's
            # "Actually, before that, how much is the Pro plan?": answered, then the booking question again
            found: list = []
            async for utterance in self._question_during_booking(text, found):
                yield utterance
            if found[0]:
                return
        if booking is not None and intent.name != "check" and not (  # a goodbye too: nothing is booked yet
            intent.name == "faq" and booking.awaiting is None
        ):
            async for utterance in self._continue_booking(text, intent.name):
                yield utterance
            return
        handler = {
            "book": self._start_booking,
            "check": self._check,
            "cancel_booking": self._cancel_booking,
            "goodbye": self._goodbye,
            "thanks": self._thanks,
            "greeting": self._greeting_reply,
            "yes": self._yes_without_question,
            "no": self._no_without_question,
            "clarify": self._clarify,
        }.get(intent.name, functools.partial(self._answer_question, doubtful=intent.doubtful))
        async for utterance in handler(text):
            yield utterance

    async def _read_intent(self, text: str) -> Intent:
        """What the turn means where the call is: the classifier (when given) reads it in the dialog state."""
        regex = detect_intent(text)
        booking = self.state.booking
        if self._intents is None:
            return regex
        state = {"when": "when", "name": "name", "phone": "name", "confirm": "confirm"}.get(
            booking.awaiting if booking else None, "idle")
        if booking and booking.offered:
            state = "confirm"  # "Would one of those work?" is a yes-or-no question that a time also answers
        name, guess = await asyncio.to_thread(understand, text, state, self._intents)
        if name == "unsure" and state == "idle":
            name = "clarify"  # within a booking "unsure" still fills the slots the turn names
        return Intent(name, regex.frustrated, doubtful=guess is not None and guess.unsure)

    def _completes(self, text: str) -> bool:
        """A few words with no request of their own, outside a booking: the tail of an earlier sentence."""
        if self.state.booking is not None or not 1 <= len(text.split()) <= 4:
            return False
        return detect_intent(text).name in ("faq", "thanks")

    # -- small talk -------------------------------------------------------------------------

    async def _not_understood(self) -> AsyncIterator[Utterance]:
        self.state.not_understood += 1
        if self.state.not_understood >= MAX_NOT_UNDERSTOOD and not self.state.escalated:
            async for utterance in self._escalate("could not understand the caller three times", ""):
                yield utterance
            return
        yield Utterance(DID_NOT_CATCH)

    async def _goodbye(self, text: str) -> AsyncIterator[Utterance]:
        self.state.booking = None
        yield Utterance(CLOSING.format(business=self.business_name), end_call=True)

    async def _thanks(self, text: str) -> AsyncIterator[Utterance]:
        yield Utterance(WELCOME)

    async def _greeting_reply(self, text: str) -> AsyncIterator[Utterance]:
        if asks_how_agent_is(text):
            yield Utterance("I'm doing well, thanks for asking! How can I help you today?")
            return
        yield Utterance("Hi there! How can I help you today?")

    async def _yes_without_question(self, text: str) -> AsyncIterator[Utterance]:
        # "...and I can connect you with a specialist." - "Yes, please." (an offer that ends the reply: after
        # "...or connect you with a person. How can I help?" a "yes" is not an answer to it)
        offer = later_sentences(self.state.last_reply, skip=-1)
        if _OFFERS_A_PERSON.search(offer) and not (acknowledges(text) and _EITHER_OR.search(offer)):
            async for utterance in self._escalate("caller accepted the offer of a specialist", text):
                yield utterance
            return
        if self.state.pending_question.endswith(BOOK_ONE) and not takes_in(text):  # "I couldn't find... book one?"
            wanted, self.state.moved_to = self.state.moved_to, ""
            async for utterance in self._start_booking(wanted or text, recalled=bool(wanted)):
                yield utterance
            return
        if acknowledges(text) and len(self.state.history) > 1:
            yield Utterance("Okay. " + ANYTHING_ELSE)  # "ok cool" after an answer: the caller took it in
            return
        yield Utterance("Sure. What can I help you with? I can answer questions about ByteAI or book an appointment.")

    async def _no_without_question(self, text: str) -> AsyncIterator[Utterance]:
        if not self.state.pending_question.endswith(ANYTHING_ELSE) and re.search(r"\b(wrong|not right|incorrect)\b",
                                                                                  text):
            yield self._ask("Sorry about that. Could you tell me again what you need?")  # a complaint, not a goodbye
            return
        # "No" to "anything else?" ends the call; to anything else (the greeting's question too) it asks that first:
        # the agent never hangs up on a turn that only might have been a goodbye.
        if self.state.pending_question.endswith(ANYTHING_ELSE):
            async for utterance in self._goodbye(text):
                yield utterance
            return
        yield Utterance("Okay. " + ANYTHING_ELSE)

    async def _with_cue(self, work: Awaitable, result: list) -> AsyncIterator[Utterance]:
        """Run a lookup into `result`; if it takes longer than ~300 ms, say a listening cue first."""
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=CUE_AFTER_SECS)
        if not done:
            yield Utterance(LISTENING_CUE, kind="cue")
        result.append(await task)

    async def _tool(self, name: str, arguments: dict, result: list) -> AsyncIterator[Utterance]:
        if self._run_tool is None:
            result.append({"ok": False, "message": "Sorry, I can't do that right now."})
            return
        async for cue in self._with_cue(self._run_tool(name, arguments), result):
            yield cue

    def _ask(self, question: str) -> Utterance:
        if question == self.state.pending_question and not question.startswith("Sorry"):
            # The answer did not fit: say what would (and how to leave), or at least that it did not (the re-asks,
            # CLARIFY and CONFIRM_AGAIN, already open with "Sorry")
            again = re.sub(r"^(Sure|Great|Okay)\. ", "", question)  # not "Sorry, I didn't catch that. Sure. What..."
            question = ASKED_AGAIN.get(question) or f"Sorry, I didn't catch that. {again}"
        self.state.pending_question = question
        return Utterance(question)

    # -- humans -----------------------------------------------------------------------------

    async def _escalate(self, reason: str, text: str, opening: str | None = None) -> AsyncIterator[Utterance]:
        self.state.escalated = True
        self.state.booking = None
        self.state.not_understood = 0
        if self.state.handed_over and not extract_phone_digits(text or ""):
            # "I've been charged twice" - a ticket - "I want my money back now": the same hand-off, said as such;
            # the call's ticket gets the new words (the tool adds to it rather than opening another)
            results: list = []
            async for cue in self._tool("escalate_to_human", {"reason": reason}, results):
                yield cue
            yield Utterance(ALREADY_HANDED_OVER + " " + ANYTHING_ELSE)
            return
        arguments = {"reason": reason}
        digits = extract_phone_digits(text) if text else None
        if digits:
            arguments["callback"] = digits
        results: list = []
        async for cue in self._tool("escalate_to_human", arguments, results):
            yield cue
        result = results[0]
        message = result.get("message") or ("I want to make sure you get the best help. "
                                            "A specialist will call you back shortly.")
        if opening and result.get("follow_up"):
            message = f"{opening} {result['follow_up']}"
        if result.get("transferred"):
            yield Utterance(message, end_call=False)
            return
        self.state.handed_over = bool(result.get("ok"))
        yield Utterance(message + " " + ANYTHING_ELSE)
