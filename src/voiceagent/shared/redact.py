"""Log redaction: phone numbers and names never reach the logs."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
# The introduction in any case, the name capitalised as transcripts write names ("I'm your agent" is no name).
_NAME_AFTER = re.compile(r"\b((?i:my name is|my name's|this is|i am|i'm|it's|name is|name:))\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")


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
