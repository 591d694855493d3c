"""Log redaction: phone numbers and names never reach the logs."""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable

_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
# The introduction in any case, the name capitalised as transcripts write names ("I'm your agent" is no name).
_NAME_AFTER = re.compile(r"\b((?i:my name is|my name's|this is|i am|i'm|it's|name is|name:))\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")


# The stronger introductions only: a name learnt here is masked everywhere, and "it's Tuesday" names nobody.
_INTRODUCED = re.compile(r"\b(?i:my name is|my name's|name is|call me)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
# Call records whose `personal_names` every log line masks, by id (a record compares by value, so is unhashable)
_NAME_SOURCES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_SOURCES_LOCK = threading.Lock()


def names_introduced(text: str) -> set[str]:
    """The names a speaker introduced themselves with ("my name is John Smith" -> {"John Smith"})."""
    return {match.group(1) for match in _INTRODUCED.finditer(text)}


def watch_names(source) -> None:
    """Mask the names `source.personal_names` holds (now and as it grows) in every log line, while it lives."""
    with _SOURCES_LOCK:
        _NAME_SOURCES[id(source)] = source


def names_in_calls() -> set[str]:
    """Every name known from the calls watched (a call in progress, or a record still held)."""
    with _SOURCES_LOCK:
        sources = list(_NAME_SOURCES.values())
    return {name for source in sources for name in set(source.personal_names)}


def redact_phone(number: str | None) -> str:
    """Keep only the last two digits: +1555***..67."""
    if not number:
        return "unknown"
    digits = re.sub(r"\D", "", number)
    return f"***{digits[-2:]}" if len(digits) >= 4 else "***"


def redact_text(text: str, names: Iterable[str] = ()) -> str:
    """Mask phone numbers and self-introduced names inside free text, and wherever they appear, the `names`
    known from the call (a name given on its own, "John Smith", after the agent asked for it)."""
    text = _PHONE.sub(lambda m: redact_phone(m.group(0)), text)
    text = _NAME_AFTER.sub(lambda m: f"{m.group(1)} [name]", text)
    parts = sorted({part for name in names for part in (name, *name.split()) if len(part) >= 3}, key=len, reverse=True)
    if parts:
        text = re.sub(r"\b(?:" + "|".join(map(re.escape, parts)) + r")\b", "[name]", text, flags=re.IGNORECASE)
        text = re.sub(r"\[name\](?:\s+\[name\])+", "[name]", text)
    return text


_PHONE_KEYS = {"phone", "callback", "callback_phone", "caller", "caller_phone", "number"}
_MAX_TEXT = 500
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?")


def redact_value(value, names: Iterable[str] = (), key: str | None = None):
    """A tool call's arguments or result as stored for the console: `name` fields masked, phone fields cut to
    their last two digits, other text redacted as transcripts are and shortened."""
    if isinstance(value, dict):
        return {str(k): redact_value(v, names, str(k)) for k, v in list(value.items())[:50]}
    if isinstance(value, (list, tuple)):
        return [redact_value(item, names, key) for item in list(value)[:50]]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if key == "name":
        return "[name]"
    if key in _PHONE_KEYS:
        return redact_phone(text)
    if _ISO_TIME.fullmatch(text):  # a booked time, not a phone number
        return text
    text = redact_text(text, names)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"
