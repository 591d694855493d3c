"""The one text normalisation of the evals, applied to what was said and what was heard alike.

Explicit, so a word error means a wrong word: lower case; punctuation dropped (an apostrophe stays inside a
word); "$99" -> "99 dollars", "30%" -> "30 percent", "2pm"/"2 p.m." -> "2 pm"; number words -> digits ("ninety
nine" -> "99"); digits next to each other join, however they were grouped ("five five five, one two three" and
"555 123" -> "555123", "two thirty" -> "230"); "byte ai" -> "byteai" (spacing of the brand, not its spelling: "bite ai"
stays an error); hyphens split words ("follow-up" -> "follow up")."""

from __future__ import annotations

import re

_UNITS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                     "fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}


def _numbers_as_digits(words: list[str]) -> list[str]:
    """Runs of number words become one number ("two hundred ninety nine" -> "299"); a new unit after a unit
    starts a new number ("two thirty" -> "2 30", "four five six" -> "4 5 6")."""
    out: list[str] = []
    value: int | None = None
    last = ""  # kind of the previous number word: unit, teen, tens, hundred, thousand
    for word in [*words, ""]:
        kind = ("unit" if word in _UNITS and _UNITS[word] < 10 else "teen" if word in _UNITS else
                "tens" if word in _TENS else "hundred" if word == "hundred" else
                "thousand" if word == "thousand" else "")
        joins = value is not None and (
            (kind == "unit" and last == "tens") or kind in ("hundred", "thousand")
            or (kind in ("tens", "teen", "unit") and last in ("hundred", "thousand")))
        if value is not None and not joins:
            out.append(str(value))
            value = None
        if not kind:
            if word:
                out.append(word)
            last = ""
            continue
        number = _UNITS.get(word, _TENS.get(word, 0))
        if value is None:
            value = number if kind not in ("hundred", "thousand") else {"hundred": 100, "thousand": 1000}[kind]
        elif kind == "hundred":
            value = value * 100
        elif kind == "thousand":
            value = value * 1000
        else:
            value += number
        last = kind
    return out


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)  # "p.m." -> "pm", with or without an hour before it
    text = re.sub(r"\$\s?(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", text)
    text = re.sub(r"(\d)\s?%", r"\1 percent", text)
    text = re.sub(r"\b(\d{1,2})(?::(\d{2}))?\s?([ap])\.?\s?m\b\.?", lambda m: " ".join(
        p for p in (m.group(1), m.group(2), m.group(3) + "m") if p), text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 10,000 -> 10000
    text = re.sub(r"(\d):(\d{2})", r"\1 \2", text)
    text = re.sub(r"[-/]", " ", text)
    text = re.sub(r"[^\w\s']", " ", text)
    text = re.sub(r"\bbyte ai\b", "byteai", text)
    words = [w.strip("'") for w in text.split() if w.strip("'")]
    return re.sub(r"(?<=\d) (?=\d)", "", " ".join(_numbers_as_digits(words)))
