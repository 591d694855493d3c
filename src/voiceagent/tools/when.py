"""Dates and times as callers say them, resolved in the business's time zone, and spoken back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12}
_MINUTE_WORDS = {"o'clock": 0, "oclock": 0, "fifteen": 15, "thirty": 30, "forty five": 45, "forty-five": 45,
                 "oh five": 5, "ten": 10, "twenty": 20, "forty": 40, "fifty": 50}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
             "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "twenty first": 21, "twenty second": 22, "twenty third": 23, "twenty fourth": 24,
             "twenty fifth": 25, "twenty sixth": 26, "twenty seventh": 27, "twenty eighth": 28, "twenty ninth": 29,
             "thirtieth": 30, "thirty first": 31}


@dataclass(frozen=True)
class BusinessHours:
    timezone: str = "America/New_York"
    open_hour: int = 9
    close_hour: int = 17
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    slot_minutes: int = 30

    @classmethod
    def from_settings(cls, settings) -> BusinessHours:
        days = frozenset(WEEKDAYS.index(d) for d in (_full_weekday(x.strip()) for x in settings.business_days.split(",")) if d)
        return cls(settings.business_timezone, settings.business_open_hour, settings.business_close_hour, days,
                   settings.appointment_minutes)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        end = local + timedelta(minutes=self.slot_minutes)
        return (local.weekday() in self.days and local.hour >= self.open_hour
                and (end.hour, end.minute) <= (self.close_hour, 0) and end.date() == local.date())


@dataclass(frozen=True)
class WhenProblem:
    """Why a requested time can't be used, in words the agent can say."""

    message: str
    need: str = ""  # "time" when only the time of day is missing


def _full_weekday(word: str) -> str | None:
    if word in WEEKDAYS:
        return word
    index = _WEEKDAY_ABBR.get(word)
    return WEEKDAYS[index] if index is not None else None


def _parse_date(text: str, today: date) -> date | None:
    if re.search(r"\bday after tomorrow\b", text):
        return today + timedelta(days=2)
    if re.search(r"\b(today|tonight|this (morning|afternoon|evening))\b", text):
        return today
    if re.search(r"\btomorrow\b", text):
        return today + timedelta(days=1)
    match = re.search(r"\bin (\d+|a|one|two|three|four|five|six|seven) (day|days|week|weeks)\b", text)
    if match:
        count = {"a": 1} | {w: n for w, n in _NUMBER_WORDS.items()}
        amount = int(match.group(1)) if match.group(1).isdigit() else count.get(match.group(1), 1)
        return today + timedelta(days=amount * (7 if match.group(2).startswith("week") else 1))
    month_names = "|".join(MONTHS + list(_MONTH_ABBR))
    ordinal_words = "|".join(sorted(_ORDINALS, key=len, reverse=True))
    day_pattern = rf"(\d{{1,2}})(?:st|nd|rd|th)?|{ordinal_words}"
    for pattern, month_group, day_group in (
        (rf"\b({month_names})\.? (?:the )?({day_pattern})\b", 1, 2),
        (rf"\b(?:the )?({day_pattern}) of ({month_names})\b", 3, 1),
    ):
        match = re.search(pattern, text)
        if match:
            month_word, day_word = match.group(month_group), match.group(day_group)
            month = MONTHS.index(month_word) + 1 if month_word in MONTHS else _MONTH_ABBR[month_word[:4] if month_word == "sept" else month_word[:3]]
            return _next_date(today, month, _day_number(day_word))
    match = re.search(r"\b(\d{1,2})/(\d{1,2})\b", text)
    if match:
        return _next_date(today, int(match.group(1)), int(match.group(2)))
    match = re.search(rf"\bthe ({day_pattern})\b", text)
    if match:
        day = _day_number(match.group(1))
        if day and 1 <= day <= 31:
            candidate = _safe_date(today.year, today.month, day)
            if candidate is None or candidate < today:
                month = today.month % 12 + 1
                candidate = _safe_date(today.year + (today.month == 12), month, day)
            return candidate
    for index, name in enumerate(WEEKDAYS):
        short = [a for a, i in _WEEKDAY_ABBR.items() if i == index]
        if re.search(rf"\b({name}|{'|'.join(short)})\b", text):
            ahead = (index - today.weekday()) % 7 or 7
            # "next Tuesday" / "Tuesday next week" mean the following calendar week when the coming one is this week.
            said_next = re.search(rf"\bnext ({name}|{'|'.join(short)})\b|\bnext week\b", text)
            if said_next and today.weekday() + ahead <= 6:
                ahead += 7
            if ahead == 7 and not said_next and re.search(r"\b(today|this)\b", text):
                ahead = 0
            if re.search(rf"\b({name}|{'|'.join(short)}) week\b|\ba week (on|from) ({name}|{'|'.join(short)})\b", text):
                ahead += 7  # "Tuesday week", "a week on Tuesday": the one after the coming Tuesday
            return today + timedelta(days=ahead)
    if re.search(r"\bnext week\b", text):
        return today + timedelta(days=7 - today.weekday())
    return None


def _day_number(word: str) -> int | None:
    digits = re.match(r"\d+", word)
    return int(digits.group()) if digits else _ORDINALS.get(word)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_date(today: date, month: int, day: int | None) -> date | None:
    if not day or not 1 <= month <= 12:
        return None
    candidate = _safe_date(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def _parse_time(text: str, hours: BusinessHours) -> time | None:
    text = text.replace("a.m.", "am").replace("p.m.", "pm").replace(" a m", " am").replace(" p m", " pm")
    words = "|".join(_NUMBER_WORDS)
    if re.search(r"\b(noon|midday)\b", text):
        return time(12, 0)
    match = re.search(rf"\bhalf past (\d{{1,2}}|{words})\b", text)
    if match:
        return _with_meridiem(_hour_value(match.group(1)), 30, text)
    match = re.search(rf"\bquarter (past|after|to) (\d{{1,2}}|{words})\b", text)
    if match:
        hour = _hour_value(match.group(2))
        return _with_meridiem(hour, 15, text) if match.group(1) != "to" else _with_meridiem(hour - 1, 45, text)
    match = re.search(r"\b(\d{1,2})(?::(\d{2}))? ?(am|pm)\b", text)
    if match:
        return _clock(int(match.group(1)), int(match.group(2) or 0), match.group(3))
    match = re.search(r"\b(?:at|around|for|by) (\d{1,2}) ([0-5]\d)\b", text)  # "at 10 30"
    if match:
        return _with_meridiem(int(match.group(1)), int(match.group(2)), text)
    match = re.search(r"\b(\d{1,2})[:.](\d{2})\b", text)
    if match:
        return _with_meridiem(int(match.group(1)), int(match.group(2)), text)
    minute_words = "|".join(sorted(_MINUTE_WORDS, key=len, reverse=True))
    # the first number word that reads as an hour ("book me one for wednesday at ten": ten, not one)
    for match in re.finditer(rf"\b({words})(?: ({minute_words}))?(?: ?(am|pm))?\b", text):
        if not (match.group(2) or match.group(3) or re.search(rf"\b(at|around|for|by) {match.group(1)}\b", text)):
            continue
        minute = _MINUTE_WORDS.get(match.group(2) or "o'clock", 0)
        if match.group(3):
            return _clock(_NUMBER_WORDS[match.group(1)], minute, match.group(3))
        return _with_meridiem(_NUMBER_WORDS[match.group(1)], minute, text)
    match = re.search(r"\b(?:at|around|by|for) (\d{1,2})\b(?!/)", text)
    if match and int(match.group(1)) <= 12:
        return _with_meridiem(int(match.group(1)), 0, text)
    if re.search(r"\bmorning\b", text):
        return time(max(hours.open_hour, 9), 0)
    if re.search(r"\bafternoon\b", text):
        return time(14, 0)
    if re.search(r"\b(evening|tonight)\b", text):
        return time(18, 0)
    return None


def _hour_value(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _clock(hour: int, minute: int, meridiem: str) -> time | None:
    if not 1 <= hour <= 12 or not 0 <= minute < 60:
        return None
    hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return time(hour, minute)


def _with_meridiem(hour: int, minute: int, text: str) -> time | None:
    """A time said without am/pm: 1-6 mean afternoon (business hours), 7-11 morning; 13-23 as given."""
    if re.search(r"\b(pm|afternoon|evening|tonight)\b", text):
        return _clock(hour, minute, "pm")
    if re.search(r"\b(am|morning)\b", text):
        return _clock(hour, minute, "am")
    if not 0 <= minute < 60 or not 0 <= hour <= 23:
        return None
    if 1 <= hour <= 6:
        hour += 12
    return time(hour, minute)


DAYPARTS = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}  # local hours [from, to)


def resolve_day(text: str, now: datetime, hours: BusinessHours) -> date | None:
    """The day a phrase names ("friday", "tomorrow afternoon", "the 3rd"), or None."""
    return _parse_date(" ".join(text.lower().replace(",", " ").split()), now.astimezone(hours.zone).date())


def resolve_when(text: str, now: datetime, hours: BusinessHours) -> datetime | WhenProblem:
    """An aware datetime in the business zone, or a problem to tell the caller (nothing is checked for free)."""
    local_now = now.astimezone(hours.zone)
    text = " ".join(text.lower().replace(",", " ").split())
    text = re.sub(r"\b(\d{1,2})(\d{2})\b(?![/\d])", r"\1:\2", text)  # speech recognition writes "ten thirty" as 1030
    day = _parse_date(text, local_now.date())
    moment = _parse_time(text, hours)
    if day is None and moment is None:
        return WhenProblem("What day and time would you like?", need="date")
    if moment is None:
        return WhenProblem("What time works for you on that day?", need="time")
    if day is None:
        day = local_now.date()
        if datetime.combine(day, moment, hours.zone) <= local_now:
            day += timedelta(days=1)
    return datetime.combine(day, moment, hours.zone)


def check_bookable(when: datetime, now: datetime, hours: BusinessHours) -> WhenProblem | None:
    """Past, closed day, outside hours or off the slot grid: a spoken reason; None when bookable."""
    local = when.astimezone(hours.zone)
    if local <= now:
        return WhenProblem("That time has already passed.")
    if local.weekday() not in hours.days:
        return WhenProblem(f"We're closed on {WEEKDAYS[local.weekday()].capitalize()}s.")
    if not hours.is_open_at(local):
        return WhenProblem(f"We take appointments from {speak_clock(time(hours.open_hour))} to "
                           f"{speak_clock(time(hours.close_hour))}.")
    if (local.hour * 60 + local.minute - hours.open_hour * 60) % hours.slot_minutes:
        return WhenProblem(f"Appointments start every {hours.slot_minutes} minutes, on the hour or half hour.")
    return None


def next_free_slots(after: datetime, hours: BusinessHours, taken: set[datetime], count: int = 2) -> list[datetime]:
    """The next `count` bookable slots strictly after `after`, skipping taken ones (aware datetimes)."""
    local = after.astimezone(hours.zone)
    step = timedelta(minutes=hours.slot_minutes)
    minutes = local.hour * 60 + local.minute - hours.open_hour * 60
    candidate = local.replace(second=0, microsecond=0) + timedelta(minutes=(-minutes) % hours.slot_minutes or hours.slot_minutes)
    taken_utc = {t.astimezone(ZoneInfo("UTC")) for t in taken}
    found: list[datetime] = []
    for _ in range(24 * 60 // hours.slot_minutes * 21):
        if hours.is_open_at(candidate) and candidate.astimezone(ZoneInfo("UTC")) not in taken_utc:
            found.append(candidate)
            if len(found) == count:
                break
        candidate += step
    return found


def speak_clock(moment: time) -> str:
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    if moment.hour == 12 and moment.minute == 0:
        return "noon"
    return f"{hour}:{moment.minute:02d} {suffix}" if moment.minute else f"{hour} {suffix}"


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def speak_datetime(when: datetime, now: datetime, hours: BusinessHours) -> str:
    """'tomorrow, February 20th at 2 PM' / 'Tuesday, February 24th at 10:30 AM' / 'today at 4 PM'."""
    local = when.astimezone(hours.zone)
    today = now.astimezone(hours.zone).date()
    calendar = f"{MONTHS[local.month - 1].capitalize()} {_ordinal(local.day)}"
    if local.date() == today:
        day = "today"
    elif local.date() == today + timedelta(days=1):
        day = f"tomorrow, {calendar}"
    else:
        day = f"{WEEKDAYS[local.weekday()].capitalize()}, {calendar}"
    return f"{day} at {speak_clock(local.time())}"


def speak_clock_list(slots: list[datetime], hours: BusinessHours) -> str:
    """'9 AM, 10 AM or 11 AM' (times of one day)."""
    clocks = [speak_clock(slot.astimezone(hours.zone).time()) for slot in slots]
    return clocks[0] if len(clocks) == 1 else ", ".join(clocks[:-1]) + " or " + clocks[-1]


def speak_times(slots: list[datetime], now: datetime, hours: BusinessHours) -> str:
    spoken = [speak_datetime(slot, now, hours) for slot in slots]
    return " or ".join(spoken)
