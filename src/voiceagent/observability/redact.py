"""Log redaction: phone numbers and names never reach the logs."""

from __future__ import annotations

import re

_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_NAME_AFTER = re.compile(r"\b(my name is|my name's|this is|i am|i'm|it's|name is|name:)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)", re.IGNORECASE)


def redact_phone(number: str | None) -> str:
    """Keep only the last two digits: +1555***..67."""
    if not number:
        return "unknown"
    digits = re.sub(r"\D", "", number)
    return f"***{digits[-2:]}" if len(digits) >= 4 else "***"


def redact_text(text: str) -> str:
    """Mask phone numbers and self-introduced names inside free text."""
    text = _PHONE.sub(lambda m: redact_phone(m.group(0)), text)
    return _NAME_AFTER.sub(lambda m: f"{m.group(1)} [name]", text)
