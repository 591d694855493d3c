"""The offline dialog's answers from the knowledge base: a question, a follow-up that leans on the one before,
a question asked in the middle of a booking."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any, Protocol

from voiceagent.brain.slots import extract_name, has_date, has_time
from voiceagent.brain.understanding import asks_a_question, ends_in_thanks
from voiceagent.brain.utterance import Utterance
from voiceagent.knowledge.lexical import words_of
from voiceagent.shared.phrases import CLARIFY, DONT_KNOW, MAX_NOT_UNDERSTOOD, NOTHING_MORE, WELCOME


class KnowledgeLookup(Protocol):
    def best_answer(self, query: str) -> Any | None: ...

    def search(self, query: str, k: int = 3) -> list: ...

    def names_unknown(self, query: str) -> bool: ...


def _without_yes_or_no(said: str) -> str:
    return re.sub(r"^(Yes|No), (\w)", lambda found: found.group(2).upper(), said)


_ASKS_WHAT_IT_TAKES = re.compile(r"\b(need|needed|have to|has to|must|required?|requirements?)\b")


def _answering(said: str, question: str, focused: bool = False) -> str:
    """An FAQ sentence said to `question`. The entry's own "Yes,"/"No," answers the entry's question, not always
    the caller's: it is left out for the entry of the feature asked about or one the question is only near
    (`focused`), and when the question asks what it takes, whose yes may be the entry's no ("do I need a card for
    it?" - "Yes, ... no credit card is needed")."""
    return _without_yes_or_no(said) if focused or _ASKS_WHAT_IT_TAKES.search(question) else said


# A follow-up that leans on the question before ("and what's included in that?", "which one is better?").
_FOLLOW_UP = re.compile(r"^(and|so|but|for|what about|how about|what if)\b|\b(that|it|this|those|they|them|these|"
                        r"one|ones)\b|^(how (long|much|many|soon)|when|where)\b[\w' ]{0,25}$")  # "how long do i have"

# ...and one that points back at it by name ("that", "it")
_POINTS_BACK = re.compile(r"\b(that|it|this|those|them)\b")

# How close an FAQ entry must be to answer a turn whose intent was a near tie, or a turn that could also lean on
# the question before or on a booking under way (the knowledge base's own bar is 0.40)
DOUBTFUL_MIN_SCORE = 0.5
# How close a follow-up alone that names something the FAQ mentions must be to another entry than the one just
# said, to be answered from it ("what about Zapier?" 0.28 to the integrations entry, with the name boost) rather
# than "That's all I have on that one" (a follow-up of everyday words, "for a small team", is not)
OWN_NAME_MIN_SCORE = 0.25
# How close an FAQ entry must be for its own "Yes,"/"No," to be said: that answers the entry's question, and a
# question only near it may ask something else ("do you support two factor login", 0.45 to the single sign-on
# entry: "Yes, single sign-on..."; "does the pro one come with single sign on", 0.49: "Yes, ... included in the
# Business plan"); the questions an entry answers as asked score 0.55 and up
SURE_YES_MIN_SCORE = 0.54
# How close an FAQ entry must be to answer a turn the classifier could not place at all (a mumble Whisper wrote
# as words rarely comes near 0.5; "I want a refund" is 0.74 to the refund entry)
UNSURE_MIN_SCORE = 0.6


# What kind of answer a follow-up asks for, and how a sentence that gives it reads
_ASKS_HOW_LONG = re.compile(r"\bhow (long|soon|quickly|many (days|hours|minutes|weeks|months))\b|\buntil when\b")
_DURATION = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|a few|few|several)[- ](minutes?|hours?|days?|weeks?|"
                       r"months?|years?)\b|\b(within|until|right away|immediately|at once)\b")
_ASKS_PRICE = re.compile(r"\bhow much\b|\b(cost|costs|price|prices|pricing|charge|fee)\b")
_PRICE = re.compile(r"\$\d|\b(cents?|free|discount|percent)\b")
_ASKS_OVER = re.compile(r"\b(go|goes|going|went) (over|past)\b|\b(exceed|blow past|run out|hit the (limit|cap))")
_OVER = re.compile(r"\bover (the|your|my|a|\d)|\bno limit\b")


# Words a follow-up asks with that say nothing of what it asks about ("does that include it?")
_ASKING_WORDS = frozenset({"inclu", "come", "work", "take", "make", "use", "need", "doe", "going", "there", "thing",
                           "stuff", "still", "again", "too", "else", "other", "sure", "they", "them", "their"})


def _stems(text: str) -> set[str]:
    """Informative words cut to five letters, so "europe" meets "european" and "retrain" "retraining"."""
    return {word[:5] for word in words_of(text)} - _ASKING_WORDS


# The kinds of answer a follow-up may ask for: (how it asks, how a sentence gives it)
_KINDS = {"how long": (_ASKS_HOW_LONG, _DURATION), "how much": (_ASKS_PRICE, _PRICE), "over": (_ASKS_OVER, _OVER)}


def _kinds(follow_up: str, sentence: str, kinds: tuple[str, ...] = tuple(_KINDS)) -> int:
    """How many of the kinds of answer a follow-up asks for (how long, how much, over a limit) a sentence gives."""
    return sum(bool(_KINDS[kind][0].search(follow_up) and _KINDS[kind][1].search(sentence)) for kind in kinds)


def giving_sentence(answer: str, follow_up: str) -> str | None:
    """The sentence of an answer that says how long or what happens over a limit, when a follow-up asks that ("and
    what happens if i go over that?" after the rate limits: "Requests over the limit get a 429 error..."), or
    None. (Not prices: "how much does it cost?" after the free trial asks the plans' price, not "free".)"""
    return next((sentence for sentence in sentences(answer) if _kinds(follow_up, sentence, ("how long", "over"))),
                None)


def answering_sentence(answer: str, follow_up: str) -> str | None:
    """The sentence of an answer already given that answers a follow-up about it ("can we have it in Europe
    instead?" after where data is stored: "Business customers can choose the European Union instead."), or None
    when no sentence shares a word with it or gives the kind of answer it asks for (how long, how much)."""
    asked = _stems(follow_up)
    best, best_score = None, 0
    for sentence in sentences(answer):
        score = len(asked & _stems(sentence)) + _kinds(follow_up, sentence)
        if score > best_score:
            best, best_score = sentence, score
    return best


def covering_sentence(answer: str, follow_up: str) -> str | None:
    """The sentence of an answer that has every informative word of a follow-up ("what about by invoice?" after
    "...Business customers can also pay by invoice or bank transfer."), or None."""
    asked = _stems(follow_up) - {"about"}
    if not asked:
        return None
    return next((sentence for sentence in sentences(answer) if asked <= _stems(sentence)), None)


def sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", text.strip())


def first_sentences(text: str, count: int = 2) -> str:
    return " ".join(sentences(text)[:count])


def later_sentences(text: str, skip: int = 2) -> str:
    """What `first_sentences` left out of an answer ('' when it said all of it); skip=-1: the last sentence."""
    return " ".join(sentences(text)[skip:])


def back_to_booking(pending: str) -> str:
    """The booking's question again after a question asked in the middle of it."""
    return "Now, back to your booking. " + re.sub(r"^(Sure, I can book that for you|Great|Sure)\. ", "", pending)


class FaqAnswers:
    """The knowledge half of `DialogEngine` (which provides state, _knowledge, _ask, _with_cue, _escalate and
    _not_understood)."""

    async def _answer_question(self, text: str, doubtful: bool = False) -> AsyncIterator[Utterance]:
        if self._knowledge is None:
            async for utterance in self._not_understood():
                yield utterance
            return
        found: list = []
        async for cue in self._with_cue(asyncio.to_thread(self._knowledge.best_answer, text), found):
            yield cue
        hit = found[0]
        if hit is not None and doubtful and hit.score < DOUBTFUL_MIN_SCORE and not hit.named:
            # Words the classifier could not place (a mumble Whisper wrote as "and it's about first time up") get
            # an answer only from an entry they clearly match; otherwise the clarifying question, not a guess. A
            # name only that entry mentions is clear enough ("does your thing flip-up with HubSpot").
            yield self._ask(CLARIFY)
            return
        if self.state.last_answer and _POINTS_BACK.search(text) and (hit is None or
                                                                    hit.entry.id != self.state.last_answer_id):
            # "and what happens if i go over that?" after the rate limits: the answer just given says what
            given = giving_sentence(self.state.last_answer, text)
            if given:
                self.state.last_question = text
                yield Utterance(_answering(given, text, focused=True))
                return
        covered = covering_sentence(self.state.last_answer, text) if (
            self.state.last_answer and _FOLLOW_UP.search(text) and (hit is None or hit.entry.id != self.state.last_answer_id)
        ) else None
        covered = _answering(covered, text) if covered else covered
        if covered and covered != self.state.last_reply.strip():
            # "what about by invoice?" after the payment methods: the answer just given says it (the invoices entry,
            # nearest alone, would not)
            self.state.last_question = text
            yield Utterance(covered)
            return
        if hit is None and self.state.last_question and _FOLLOW_UP.search(text):
            # A follow-up that leans on the question before ("and what's included in that?") matches nothing alone;
            # asked together with it, it does. Only then: a follow-up with words of its own ("can I delete it?"
            # after "where is my data stored?") keeps its own answer, which the question before would outweigh.
            async for utterance in self._follow_up(text, found):
                yield utterance
            if found[-1]:
                return
        if hit is None:
            async for utterance in self._dont_know(text):
                yield utterance
            return
        async for utterance in self._answer(hit, text):
            yield utterance

    async def _dont_know(self, text: str) -> AsyncIterator[Utterance]:
        """A question the FAQ has no answer to: said so (with what the agent can do), a person after a few; a turn
        that only ends in thanks gets the thanks."""
        if ends_in_thanks(text):
            yield Utterance(WELCOME)
            return
        self.state.not_understood += 1
        if self.state.not_understood >= MAX_NOT_UNDERSTOOD and not self.state.escalated:
            async for utterance in self._escalate("questions the assistant could not answer", text):
                yield utterance
            return
        yield Utterance(DONT_KNOW)

    async def _clarify(self, text: str) -> AsyncIterator[Utterance]:
        if self._knowledge is not None and self.state.last_question and _FOLLOW_UP.search(text):
            # "For the business one" / "What if I need more?" read as nothing alone; after a question, they lean on it.
            # One that clearly matches an entry alone ("can I delete it?" after "where is my data stored?") is that.
            found: list = []
            async for utterance in self._clear_answer(text, found):
                yield utterance
            if found[-1]:
                return
            async for utterance in self._follow_up(text, found):
                yield utterance
            if found[-1]:
                return
        elif self._knowledge is not None:
            # "I want a refund": the classifier could not tell a cancellation from a hand-off, the FAQ can (0.74).
            # A question said inside the turn ("say we blow past the ten thousand calls, what happens then, do you
            # just cut us off?") is answered from the entry the FAQ would answer it with.
            found = []
            asked = asks_a_question(text)
            async for utterance in self._clear_answer(text, found, 0.0 if asked else UNSURE_MIN_SCORE,
                                                      floor=0.0 if asked else DOUBTFUL_MIN_SCORE):
                yield utterance
            if found[-1]:
                return
        if asks_a_question(text):
            # "do you guys have an office in london", "who's the ceo": a question heard clearly that the FAQ does not
            # answer; "not sure I followed" would blame the line (and came back word for word at every such question)
            async for utterance in self._dont_know(text):
                yield utterance
            return
        yield Utterance(WELCOME) if ends_in_thanks(text) else self._ask(CLARIFY)

    async def _question_during_booking(self, text: str, answered: list) -> AsyncIterator[Utterance]:
        """A question that clearly matches an FAQ entry, asked while a booking waits for a day, time, name or
        yes: its answer, then the booking's question again. `answered` gets whether it was one."""
        if self._knowledge is None or has_date(text) or has_time(text) or extract_name(text):
            answered.append(False)
            return
        pending = self.state.pending_question
        async for utterance in self._clear_answer(text, answered):
            yield utterance
        if answered[-1] and pending:
            self.state.pending_question = pending
            yield Utterance(back_to_booking(pending))

    async def _clear_answer(self, text: str, answered: list, min_score: float = 0.0,
                            floor: float = DOUBTFUL_MIN_SCORE) -> AsyncIterator[Utterance]:
        """The answer of the entry `text` alone clearly matches (`floor`, or `min_score` if higher; the knowledge
        base's own bar always), if one does; `answered` gets whether it was said."""
        found: list = []
        async for cue in self._with_cue(asyncio.to_thread(self._knowledge.best_answer, text), found):
            yield cue
        hit = found[0]
        answered.append(hit is not None and hit.score >= max(floor, min_score))
        if answered[-1]:
            async for utterance in self._answer(hit, text):
                yield utterance

    async def _follow_up(self, text: str, answered: list) -> AsyncIterator[Utterance]:
        """Answer `text` asked together with the caller's last question, if that finds an entry; `answered` gets
        whether it did. If it finds the entry just said in full, the words add nothing the agent can answer ("and
        does that include it?", or noise heard as "okay, yeah, I'm just glued it"): saying the same answer again
        would be a parrot; the caller is asked what else they need."""
        if await asyncio.to_thread(self._knowledge.names_unknown, text):
            answered.append(False)  # "what about quickbooks?": asked with the question before, it found the enterprise plan
            return
        found: list = []
        leaning = asyncio.to_thread(self._knowledge.best_answer, f"{self.state.last_question} {text}")
        async for cue in self._with_cue(leaning, found):
            yield cue
        hit = found[0]
        answered.append(hit is not None)
        if hit is None:
            return
        if hit.entry.id == self.state.last_answer_id and not later_sentences(hit.entry.answer):
            # "what about Zapier?" after the Salesforce answer: a name of its own finds its entry below the bar
            own = await asyncio.to_thread(self._knowledge.search, text, 1)
            if own and own[0].entry.id != hit.entry.id and own[0].named and own[0].score >= OWN_NAME_MIN_SCORE:
                hit = own[0]
            else:
                for utterance in self._nothing_more(hit, text):
                    yield utterance
                return
        async for utterance in self._answer(hit, text):
            yield utterance

    def _nothing_more(self, hit, text: str) -> list[Utterance]:
        """A follow-up that finds the entry just said in full: the sentence of it that answers ("how long do I
        have?" after the refund answer), else that this is all the agent has (the same answer again would be a
        parrot)."""
        sentence = answering_sentence(hit.entry.answer, text)
        if sentence:
            self.state.not_understood = 0
            self.state.last_question = text
            return [Utterance(_answering(sentence, text, focused=True))]  # its "Yes," answered the entry
        return [self._ask(CLARIFY if self.state.pending_question == NOTHING_MORE else NOTHING_MORE)]

    async def _answer(self, hit, text: str) -> AsyncIterator[Utterance]:
        """Say an FAQ entry; the one said last, asked for again, goes on with its later sentences."""
        self.state.not_understood = 0
        said_before = self.state.last_answer_id == hit.entry.id
        self.state.last_question, self.state.last_answer_id = text, hit.entry.id
        self.state.last_answer = hit.entry.answer
        more = later_sentences(hit.entry.answer) if said_before else ""
        said = more or first_sentences(hit.entry.answer)
        focused = getattr(hit, "focused", False) or hit.score < SURE_YES_MIN_SCORE
        yield Utterance(_answering(said, text, focused=focused))
