"""Phone numbers as callers say them, normalized to E.164."""

from __future__ import annotations

import re

_SPOKEN = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
           "six": "6", "seven": "7", "eight": "8", "nine": "9"}


class InvalidPhone(ValueError):
    """Not a usable phone number; the message can be spoken to the caller."""


def normalize_phone(text: str, default_country_code: str = "1") -> str:
    """'(555) 123-4567', '555 123 4567', 'five five five ...', '+44 20 ...' -> '+15551234567'."""
    if not text or not text.strip():
        raise InvalidPhone("I didn't get a phone number.")
    plus = text.strip().startswith("+")
    digits = ""
    for token in re.findall(r"\d+|[a-zA-Z]+", text.lower()):
        if token.isdigit():
            digits += token
        elif token in _SPOKEN:
            digits += _SPOKEN[token]
    if plus and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 10 and default_country_code == "1":
        if digits[0] in "01":
            raise InvalidPhone("That phone number doesn't look right.")
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1") and default_country_code == "1":
        return "+" + digits
    raise InvalidPhone("That phone number doesn't look right; I need the full number with area code.")


def last_digits(phone: str | None, count: int = 4) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[-count:]
