"""What the offline dialog says: one piece of agent speech at a time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Utterance:
    """One piece of agent speech. `end_call` asks the call to hang up once it has been heard."""

    text: str
    kind: str = "answer"  # "answer" | "cue" (a listening cue said before a slow lookup)
    end_call: bool = False
