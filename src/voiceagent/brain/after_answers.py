"""What a caller says after an answer or a hand-off: more for the open ticket, the callback number, an answer that
did not help (or an email it promised that never came), and a problem the answer solved."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from voiceagent.brain.understanding import (
    SAYS_GOODBYE,
    ends_in_thanks,
    says_it_did_not_help,
    says_it_is_solved,
    says_it_never_came,
)
from voiceagent.brain.utterance import Utterance
from voiceagent.shared.phrases import ANYTHING_ELSE, CALLED_BACK, DID_NOT_COME, DID_NOT_HELP

# Once a ticket is open: "my number's the one I'm calling from"; "can't you just delete it?"; "it's about my bill"
_THIS_NUMBER = re.compile(r"\b(my number'?s? (is )?(the one|what)|(the|this) (number|phone) i'?m (calling|ringing) (from|on)|"
                          r"(call|reach) me (on|at) this (number|one)|this number is (fine|good|ok|okay|right))\b")
_DO_IT_YOURSELF = re.compile(r"\b(can'?t|cannot|couldn'?t|can|and) you (just )?(do|delete|cancel|remove|change|move|fix) "
                             r"(it|that|this)( yourself| for me| now)?\b")
_ABOUT_IT = re.compile(r"^((and|so|well|yeah|ok|okay) )*(it'?s|it is|this is) (about|regarding|concerning) |"
                       r"^((and|so|well|yeah) )*(about|regarding) (my|the|our) ")
# "How long until somebody calls me?" once a ticket is open: about that call back, not an FAQ question
_ASKS_WHEN_CALLED = re.compile(r"\b(how long|how soon|when)\b.*\b(call|ring|contact|reach|hear|get back)")


class AfterAnswers:
    """For `DialogEngine` (which provides state and _escalate)."""

    async def _after_answer(self, text: str, caller_text: str, handled: list) -> AsyncIterator[Utterance]:
        """The reply to a turn that follows up on the last answer or hand-off; `handled` gets whether it was one."""
        handled.append(True)
        if self.state.handed_over and self.state.booking is None:
            if _ASKS_WHEN_CALLED.search(text):
                yield Utterance(f"{CALLED_BACK} {ANYTHING_ELSE}")
                return
            if _THIS_NUMBER.search(text):
                yield Utterance(f"Got it, they'll call you back at this number. {ANYTHING_ELSE}")
                return
            if _DO_IT_YOURSELF.search(text):
                yield Utterance(f"I'm sorry, I can't do that myself, but it's in the ticket and the team will take care "
                                f"of it. {ANYTHING_ELSE}")
                return
            if says_it_did_not_help(text) or _ABOUT_IT.search(text):
                # "the status page says everything is fine, that's the whole problem": more for the open ticket
                async for utterance in self._escalate("caller added details", text):
                    yield utterance
                return
        if (self.state.last_reply in (DID_NOT_HELP, DID_NOT_COME) and self.state.booking is None
                and says_it_did_not_help(text) and not self.state.escalated):
            # "...I can connect you with a specialist" - "I removed it and put it back, still nothing": a person
            async for utterance in self._escalate("the answers did not solve it", caller_text):
                yield utterance
            return
        if (self.state.last_answer_id and self.state.booking is None and says_it_did_not_help(text)
                and not self.state.escalated):
            # "My account is locked" - the reset steps - "I already tried that": not the same steps again.
            self.state.last_answer_id = ""
            yield Utterance(DID_NOT_COME if says_it_never_came(text) else DID_NOT_HELP)
            return
        answered = self.state.last_answer_id or self.state.last_reply in (DID_NOT_HELP, DID_NOT_COME)
        if answered and self.state.booking is None and says_it_is_solved(text) and not SAYS_GOODBYE.search(text) and (
                ends_in_thanks(text) or len(text.split()) <= 10):
            # "ok clearing the cache fixed it actually, thanks" got the same advice again
            self.state.last_answer_id = ""
            yield Utterance(f"Great, glad that sorted it out! {ANYTHING_ELSE}")
            return
        handled[-1] = False
