"""The free times a booking offers, as the agent says them and as the caller picks or asks about them."""

from __future__ import annotations

import re
from datetime import datetime

from voiceagent.brain.slots import asks_next_opening, clock_time, date_part, extract_name, has_date, has_time

# "what's the latest you have?", "anything earlier?", "how early can I come?": a question about the free times,
# not a choice of one ("the later one" is)
ASKS_EDGE = re.compile(r"^((and|so|ok|okay|oh|well|hmm|but|then|yes|yeah|no|sorry|ugh|um|uh|right|alright) )*"
                       r"(what('?s| is| about)?|when('?s| is)?|is there|are there|do you have|have you got|(you )?got|"
                       r"any|anything|something|nothing|how)\b"
                       r".*?\b(?P<edge>latest|earliest|earlier|later|late|early|(last|first) (slot|time|appointment))\b"
                       r"(?! (one|ones|option|of))")

# Which of the offered times the caller means: "the first one", "the later one", "yes, that's fine" (the first)
_FIRST_OFFERED = re.compile(r"\b(first|earlier|earliest|sooner|soonest|former)\b")
_LAST_OFFERED = re.compile(r"\b(later|latest|last|other|latter)\b")
# "the second one" of three listed is the middle one, not the last
_NTH_OFFERED = re.compile(r"\b(second|third)\b")
# One time offered ("The latest I have is 4:30 PM. Would that work?"): "let's do that one", "fine, the latest one"
_THAT_ONE = re.compile(r"\b(that|this|the (latest|last|earliest|first|later|earlier|only)) one\b|"
                       r"\b(do|take|grab|go with|book) (it|that)\b")
_NOT_THAT = re.compile(r"^(no|nope|nah)\b|\bnot (that|this|the \w+) one\b")


def offered_pick(text: str, intent: str, offered: list[str]) -> str | None:
    """The offered time (ISO) the caller took, or None when the turn does not pick one. A "yes" takes the first
    only where the offer was a yes-or-no question (intent "yes" is not passed for a listing)."""
    if not offered:
        return None
    clock = clock_time(text) if not has_date(text) else None
    if clock:  # "one works", "let's do the noon one": the offered time at that hour (another hour is a new time)
        return next((iso for iso in offered if _clock_of(iso) == clock), None)
    if has_time(text):
        return None
    nth = _NTH_OFFERED.search(text)
    if nth:
        return offered[min(("second", "third").index(nth.group(1)) + 1, len(offered) - 1)]
    if len(offered) > 1 and _LAST_OFFERED.search(text):
        return offered[-1]
    if len(offered) == 1 and _THAT_ONE.search(text) and not _NOT_THAT.search(text) and intent != "no":
        return offered[0]
    if _FIRST_OFFERED.search(text) or (intent == "yes" and not (has_date(text) or extract_name(text))):
        return offered[0]  # (a "yes" with a name in it, "ok my name is Hugo", answers the name, not the offer)
    return None


def _clock_of(iso: str) -> tuple[int, int]:
    """An offered time as `clock_time` gives it: 1 PM is (1, 0), noon (12, 0)."""
    when = datetime.fromisoformat(iso)
    return when.hour % 12 or 12, when.minute


def as_when_text(iso: str) -> str:
    """An offered time as words the time parser reads back ("february 20 at 10:30 am")."""
    when = datetime.fromisoformat(iso)
    return f"{when:%B} {when.day} at {when.hour % 12 or 12}:{when:%M} {'am' if when.hour < 12 else 'pm'}".lower()


def day_and_clock(spoken: str) -> tuple[str, str]:
    """A time as `describe_when` says it, in its two halves: "tomorrow, February 20th at noon" -> ("tomorrow,
    February 20th", "noon")."""
    day, _, clock = spoken.rpartition(" at ")
    return day, clock


def time_part(when_text: str) -> str:
    """A when phrase without its day ("tuesday at 2pm" -> "at 2pm"; "at noon", with no day, stays as it is)."""
    day = date_part(when_text)
    return when_text.replace(day, " ").strip() if day else when_text


def offer_question(alternatives: list) -> str:
    """The question after the free times the agent offered instead of the one asked for."""
    return {0: " What other time would work for you?", 1: " Would that work?"}.get(len(alternatives),
                                                                                  " Would one of those work?")


def free_times_spoken(free: dict) -> str:
    """' I have 9 AM, 10 AM or 11 AM free.' when the day has free times."""
    return f" I have {free['spoken']} free." if free.get("ok") else ""


def asks_about_the_free_times(text: str) -> bool:
    """"What's the latest you have?": a question the booking answers with a free time (not one for the FAQ)."""
    return ASKS_EDGE.search(text) is not None or asks_next_opening(text)
