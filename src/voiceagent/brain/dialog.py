"""The offline dialog engine: deterministic intent + slot handling that answers like an LLM would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

GREETING = "Hello! Thanks for calling {business}. I'm your AI assistant. How can I help you today?"
DID_NOT_CATCH = "I'm sorry, I didn't catch that. Could you repeat?"
CLOSING = "Perfect! Thanks for calling {business}. Have a great day!"


@dataclass(frozen=True)
class Utterance:
    """One piece of agent speech. `end_call` asks the call to hang up once it has been heard."""

    text: str
    kind: str = "answer"  # "answer" | "cue" (a listening cue said before a slow lookup)
    end_call: bool = False


_GOODBYE = re.compile(
    r"\b(bye|goodbye|good bye|that'?s all|that is all|nothing else|no,? thanks?|no thank you|hang up)\b",
    re.IGNORECASE,
)


class DialogEngine:
    """One engine per call; holds the conversation state of that call."""

    def __init__(self, business_name: str = "ByteAI") -> None:
        self.business_name = business_name
        self.not_understood = 0

    def greeting(self) -> str:
        return GREETING.format(business=self.business_name)

    async def respond(self, caller_text: str) -> AsyncIterator[Utterance]:
        """Yield the agent's reply to one caller turn, piece by piece."""
        text = caller_text.strip()
        if not re.search(r"[a-zA-Z0-9]", text):
            self.not_understood += 1
            yield Utterance(DID_NOT_CATCH)
            return
        if _GOODBYE.search(text):
            yield Utterance(CLOSING.format(business=self.business_name), end_call=True)
            return
        self.not_understood += 1
        yield Utterance(DID_NOT_CATCH)

    def forget_unheard(self, text: str) -> None:
        """Told that agent speech was cut off by the caller before they heard it."""
