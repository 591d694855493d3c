"""Text as a voice should say it: money, 24/7, symbols; used by every TTS provider."""

from __future__ import annotations

import re

_REPLACEMENTS = [
    (re.compile(r"\b(\d+)/(month|mo|year|yr)\b"), lambda m: f"{m.group(1)} a {'month' if m.group(2) in ('month', 'mo') else 'year'}"),
    (re.compile(r"\$(\d[\d,]*)\.(\d{2})\b"), lambda m: f"{m.group(1)} dollars and {int(m.group(2))} cents"),
    (re.compile(r"\$(\d[\d,]*)\b"), lambda m: f"{m.group(1)} dollars"),
    (re.compile(r"\b24/7\b"), lambda m: "24 7"),
    (re.compile(r"(\d+)\s?%"), lambda m: f"{m.group(1)} percent"),
    (re.compile(r"\s&\s"), lambda m: " and "),
    (re.compile(r"[*#_`]+"), lambda m: " "),  # stray markdown from an LLM
]


def speakable(text: str) -> str:
    for pattern, replace in _REPLACEMENTS:
        text = pattern.sub(replace, text)
    return re.sub(r"[ \t]{2,}", " ", text)


async def speakable_transform(text: str, _text_type) -> str:
    """Pipecat TTS text transform."""
    return speakable(text)


def clauses(text: str, min_words: int = 4, first_words: int = 5) -> list[str]:
    """Split a sentence at commas and semicolons into pieces of at least `min_words` words.

    A long first piece is cut after `first_words` words: the first audio of a reply waits only for it.
    """
    parts = re.split(r"(?<=[,;:])\s+", text.strip())
    pieces: list[str] = []
    for part in parts:
        if pieces and len(pieces[-1].split()) < min_words:
            pieces[-1] = f"{pieces[-1]} {part}"
        else:
            pieces.append(part)
    if len(pieces) > 1 and len(pieces[-1].split()) < min_words:
        last = pieces.pop()
        pieces[-1] = f"{pieces[-1]} {last}"
    pieces = [p for p in pieces if p.strip()]
    if pieces and len(pieces[0].split()) > first_words + 2:
        words = pieces[0].split()
        pieces[:1] = [" ".join(words[:first_words]), " ".join(words[first_words:])]
    return pieces
