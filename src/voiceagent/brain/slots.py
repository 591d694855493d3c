"""The slots of a caller's words: days, times, names and phone numbers, as a speech recogniser writes them."""

from __future__ import annotations

import difflib
import re

SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)"


def _has(text: str, *patterns: str) -> bool:
    return any(re.search(pattern, text) for pattern in patterns)


_NOT_AN_HOUR = (r"\b(that|this|the|which|whichever|any|some|no|earlier|later|earliest|latest|first|second|third|middle|"
                r"last|other|same) one\b")
# A number that counts something is not an hour: "about 20 minutes", "2 appointments", "after 3 days".
_NOT_A_COUNT = (r"(?! (minutes?|mins?|hours?|seconds?|secs?|days?|weeks?|months?|years?|percent|dollars?|calls?|"
                r"people|users?|seats?|times|appointments?|bookings?|more|things?|questions?)\b)")


def bare_hour_as_time(text: str, digits_only: bool = False) -> str:
    """When the agent has asked what time: a bare hour ("um, 2?", "three maybe") is that time. While it asks
    something else (a name, a yes), only an hour in digits counts ("10 is fine")."""
    if has_time(text) or has_date(text) or len(text.split()) > 7 or _has(text, _NOT_AN_HOUR, r"\bbefore\b"):
        return text
    hour = r"(\d{1,2})" if digits_only else _HOUR
    return re.sub(rf"^(.*?)\b{hour}\b(?!:){_NOT_A_COUNT}", r"\1at \2", text, count=1)


_NAME_PATTERNS = (
    r"\bit'?s ([a-z][a-z'-]+) with an? [a-z]\b",  # "no, it's Karin with an I"
    r"\bmy name is ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    # "name's tom", also as the recogniser writes it mid-sentence: "...monday at eleven names tom becker"
    r"(?<!what )(?<!your )\b(?:my |the )?name'?s (?!are\b|of\b)([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\bname is ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\bthis is ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\bit'?s ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)(?= (?:not|instead|rather)\b|$)",  # "its joan not jon"
    r"\b(?:name|it) (?:should|needs to|has to) (?:be|say|read) ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\b(?:under|for) the name (?:of )?([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    # "its for my boss actually, put it under carla mendes", "book it under jo kim": what follows "under" is a name
    r"\b(?:put|book|have|write|mark|pop) (?:it|that|this|me|us|the (?:appointment|booking)) (?:down )?under "
    r"([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\bi'?m ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)$",
    r"\bcall me ([a-z][a-z'-]+)",
    # "appointment tomorrow 9am, name richard hale": "name" said as a label (not "what name", "your name")
    r"(?<!what )(?<!which )(?<!your )(?<!same )\bname (?!is\b|was\b|should\b|needs\b|has\b|of\b|on\b)"
    r"([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
)
_NOT_NAMES = {
    "calling", "looking", "wondering", "trying", "interested", "sorry", "good", "fine", "here", "just", "not", "so",
    "a", "the", "about", "going", "having", "available", "free", "tomorrow", "today", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "next", "yes", "no", "okay", "ok", "sure", "great",
    "calling about", "in", "at", "on", "with", "your", "from", "byteai", "bite", "it", "that", "there",
    "yeah", "yep", "yup", "nope", "nah", "hello", "hi", "hey", "right", "correct", "wrong", "please", "actually",
    "wait", "hold", "what", "why", "how", "who", "when", "where", "um", "uh", "me", "us", "my", "our", "him", "her",
    "them", "you", "sure", "now", "later", "spelled", "still", "also", "really", "sir", "madam", "is", "was", "do",
    "does", "did", "of", "and", "to", "done", "ready", "booked", "confirmed", "all",
}
# Titles before a name ("Mrs. Dorothy Abernathy"), left out of it
_TITLES = {"mr", "mrs", "ms", "miss", "mister", "missus", "dr", "doctor", "sir", "madam"}
# "...wednesday at ten am for george": a name at the end of a booking request, unless it is one of these
# Everyday replies a bare name said before it was asked for must not be ("sounds good", "whatever works")
_REPLY_WORDS = {"sounds", "good", "works", "work", "fine", "perfect", "cool", "alright", "great", "whatever",
                "anything", "any", "either", "both", "none", "morning", "afternoon", "evening", "earlier", "later",
                "first", "second", "last", "one", "time", "times", "that", "this", "it", "is", "be", "do", "i", "we",
                "have", "got", "can", "could", "would", "will", "maybe", "probably", "think", "guess", "mean", "and",
                "or", "but", "for", "to", "of", "what", "which", "thanks", "thank", "please", "lunch", "noon", "asap",
                "soon", "possible", "day", "days", "week", "weekend", "free", "open", "available", "slot", "slots"}
# Words of a reply to "Can I have your name?" that is not a name ("whatever the latest one is", "sounds good")
_NEVER_IN_A_NAME = {"whatever", "whichever", "latest", "earliest", "one", "ones", "first", "second", "last", "any",
                    "either", "time", "slot", "works", "sounds", "fine", "perfect", "later", "earlier", "okay", "ok",
                    "thanks", "thank", "sure", "yes", "yeah", "no", "what", "why", "how", "that", "this", "i", "we",
                    # a yes said to the question ("confirm", "go ahead", "that's right") books nothing for "Confirm"
                    "confirm", "confirmed", "correct", "right", "exactly", "absolutely", "definitely", "great",
                    "good", "cool", "alright", "awesome", "nice", "go", "ahead", "book", "booked", "do", "done",
                    "yep", "yup", "nope", "nah", "uh", "huh", "um", "hmm", "mhm", "that's", "thats", "bye",
                    "goodbye", "hello", "hi", "hey", "same", "again", "already", "told", "said", "for"}
_FOR_NOT_NAMES = {"support", "billing", "pricing", "sales", "demo", "consultation", "call", "meeting",
                  "appointment", "lunch", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                  "ten", "eleven", "twelve", "noon", "half", "an", "hour", "minutes", "people", "team", "both",
                  "someone", "somebody", "anyone", "everyone", "setup", "onboarding", "training", "help", "advice",
                  "questions", "question", "chat", "review", "walkthrough", "tour", "trial", "account", "then"}
# Words a name said before the day or time stops at ("for richard hale tomorrow at 9", "under jo kim please")
_NAME_ENDS = {"at", "on", "this", "next", "in", "around", "about", "by", "early", "late", "sometime", "please",
              "and", "if", "so", "because", "thanks", "thank", "or", "for", "under", "a", "an", "the"}  # "for for monday"
_FOR_NAME = re.compile(r"\b(?:for|under) ([a-z][a-z'-]+(?: [a-z][a-z'-]+){0,2})")
# Whom the booking is for, said around the name: "it's for my boss, carla mendes" (not "Boss Carla Mendes")
_FOR_SOMEONE = re.compile(r"\b(?:(?:it'?s|it is) )?(?:for )?(?:my|our|the) (?:boss|manager|wife|husband|partner|friend|"
                          r"colleague|coworker|co-worker|client|son|daughter|mom|mother|dad|father|sister|brother|"
                          r"employee|assistant)\b")
# What a caller says after the name that is not part of it: "jennifer lopez no relation haha", "mike jones like
# the singer", "stephanie not steven", "sam and my wife"
_REMARK = re.compile(r"\b(?:not|instead|rather|but|no|like|as in|same as|ha(?:ha)+|lol|and|by the way)\b")


def unasked_name(text: str) -> str | None:
    """A turn of a few words that is only a name, said before the agent asked for one ("Sam O'Connor" to "what
    time works?"); never everyday reply words ("sounds good", "whatever works")."""
    words = text.split()
    if not 1 <= len(words) <= 3 or set(words) & (_REPLY_WORDS | _NOT_NAMES):
        return None
    return extract_name(text, expecting_name=True)


# "Hi, it's Gary Holt, I called earlier...": a caller saying who they are as the call opens
_GREETS = r"(hi|hey|hello|hiya|good (morning|afternoon|evening)|morning|afternoon|evening)( there)?"
_INTRODUCES = re.compile(rf"^((yeah|yes|oh|so) )*(({_GREETS} )+(it'?s|this is)|({_GREETS} )*(my name is|name'?s)) "
                         r"(?P<name>[a-z][a-z'-]+(?: [a-z][a-z'-]+)?)")
# Words after a first name that are not a surname ("it's marcus i've got...")
_AFTER_A_NAME = {"i", "i've", "i'm", "i'd", "i'll", "and", "calling", "here", "again", "from", "with", "just", "we",
                 "about", "so", "um", "uh", "regarding", "re", "urgent", "quick", "my", "the", "a", "an", "is", "not",
                 "really", "still", "calling", "me", "ridiculous"}


def introduced_name(text: str) -> str | None:
    """The name a caller gives as they say who they are ("hi, it's Gary Holt, I called earlier about a demo")."""
    match = _INTRODUCES.search(text)
    if not match:
        return None
    words = match.group("name").split()
    if len(words) > 1 and (words[1] in _AFTER_A_NAME or has_date(words[1]) or has_time(words[1])):
        words = words[:1]
    if words[0] in _AFTER_A_NAME | _REPLY_WORDS | _FOR_NOT_NAMES or has_date(words[0]) or has_time(words[0]):
        return None
    return _clean_name(" ".join(words))


# "yep, that's right, Gary Holt" to "Can I have your name?": the yes said first is no part of the name
_YES_FIRST = re.compile(r"^((yes|yeah|yep|yup|sure|right|correct|okay|ok|that'?s (right|correct|it)|it is|so) )+")


def extract_name(text: str, expecting_name: bool = False) -> str | None:
    """A name the caller gives ('my name is Maria Lopez'); a bare answer counts when we asked for it."""
    text = re.sub(rf"\b({'|'.join(_TITLES)}) ", "", text)  # "my name is Mrs. Dorothy Abernathy"
    for pattern in _NAME_PATTERNS:
        match = re.search(pattern, text)
        if match:
            name = _clean_name(match.group(1))
            if name:
                return name
    if has_date(text) or has_time(text):
        name = _name_with_the_when(text)
        if name:
            return name
    if expecting_name:
        said = _YES_FIRST.match(text)
        if said and (len(text[said.end():].split()) > 1 or re.search(r"\b(right|correct)\b", said.group(0))):
            text = text[said.end():]  # not "sure thing": a one-word rest is a name only after "that's right"
        # "it's for Sarah Connor", "put it under Jim": the words around the name are not part of it
        words = [w for w in re.sub(r"[^a-z' -]", " ", _REMARK.split(_FOR_SOMEONE.sub(" ", text), maxsplit=1)[0]).split()
                 if w not in ("it's", "its", "it", "is", "my", "name", "for", "under", "put", "the")]
        if 1 <= len(words) <= 3 and not set(words) & _NEVER_IN_A_NAME:  # "whatever the latest one is"
            return _clean_name(" ".join(words))
    return None


def _name_with_the_when(text: str) -> str | None:
    """"...wednesday at ten am for george", "for richard hale tomorrow at 9", "tomorrow at 9 under jo kim": a name
    after "for" or "under" in a turn that says when, up to the day or time after it."""
    for match in _FOR_NAME.finditer(text):
        words = []
        for word in match.group(1).split():
            if word in _NAME_ENDS or has_date(word) or has_time(word) or re.fullmatch(_HOUR_WORDS, word):
                break
            words.append(word)
        name = _clean_name(" ".join(words)) if words else None
        if name and not set(name.lower().split()) & _FOR_NOT_NAMES:
            return name
    return None


# Three or more letters said one by one ("k a t h r y n", "j-o-n"); the "s" of "it's" is no letter of them
SPELLING = re.compile(r"(?<![\w'])(?:[a-z](?![\w'])[ .,-]*){3,}")


def spelled_name(text: str) -> str | None:
    """A name spelled out letter by letter ("it's spelled with a k, k a t h r y n" -> "Kathryn"), or None."""
    text = re.sub(r"\bwith an? [a-z]\b", " ", text)  # "with a k": the letter that differs, said before the spelling
    runs = SPELLING.findall(text)
    letters = "".join(re.findall(r"[a-z]", runs[-1])) if runs else ""
    return letters.capitalize() if len(letters) >= 3 else None


def respelled(name: str, spelled: str, cutoff: float = 0.0) -> str | None:
    """`name` with the word the spelling corrects (the closest to it) replaced: "Catherine Lee" + "Kathryn";
    None when no word of it is at least `cutoff` alike ("John Smith" + "Maria" is another name, not a fix)."""
    words = name.split()
    closest = difflib.get_close_matches(spelled.lower(), [w.lower() for w in words], n=1, cutoff=cutoff)
    if not closest and cutoff:
        return None
    index = [w.lower() for w in words].index(closest[0]) if closest else 0
    return " ".join(spelled if i == index else word for i, word in enumerate(words))


def _clean_name(raw: str) -> str | None:
    # "the name is stephanie not steven", "jennifer lopez no relation haha": the name ends where a remark begins
    raw = _REMARK.split(raw, maxsplit=1)[0]
    words = [w for w in raw.split() if w not in ("please", "thanks", "thank", "you")]
    words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]  # "it's Dave, Dave Kowalski"
    if not words or words[0] in _NOT_NAMES | _NEVER_IN_A_NAME or any(w.isdigit() for w in words):
        return None
    return " ".join(_capitalized(w) for w in words[:3])


def _capitalized(word: str) -> str:
    """"o'connor" -> "O'Connor", "mary-jane" -> "Mary-Jane" (a one-letter prefix before an apostrophe is one)."""
    parts = re.split(r"(['-])", word)
    return "".join(part if part in "'-" or (i == 2 and len(parts[0]) > 1 and parts[1] == "'") else part.capitalize()
                   for i, part in enumerate(parts))


def extract_phone_digits(text: str) -> str | None:
    """Digits of a phone number in the text, spoken ('five five five ...') or written; None if too short."""
    tokens = re.findall(r"\+?\d+|[a-z]+", text)
    digits = ""
    best = ""
    for token in tokens:
        if token.lstrip("+").isdigit():
            digits += token.lstrip("+")
        elif token in SPOKEN_DIGITS and (token not in ("o", "oh") or digits):
            digits += SPOKEN_DIGITS[token]
        elif token in ("double", "triple"):
            continue
        else:
            if len(digits) > len(best):
                best = digits
            digits = ""
    if len(digits) > len(best):
        best = digits
    return best if len(best) >= 10 else None


_MONTHS = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
           r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)")
# A day of the month in words ("the twenty fifth", "february twenty fifth"); "the first" / "the second" alone only
# when no "one" follows ("the first one" picks an offered time)
_ORDINAL = (r"(?:(?:twenty|thirty) (?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|twentieth|thirtieth|"
            r"(?:four|fif|six|seven|eigh|nin|ten|eleven|twelf|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
            r"nineteen)th|first|second|third)")
_DATE_WORDS = (rf"\b(today|tonight|tomorrow|day after tomorrow|this {WEEKDAYS}|next {WEEKDAYS}|{WEEKDAYS}|"
               rf"next week|in \w+ days?|{_MONTHS} \d{{1,2}}(st|nd|rd|th)?|the \d{{1,2}}(st|nd|rd|th)?( of {_MONTHS})?|"
               rf"\d{{1,2}}(st|nd|rd|th)? of {_MONTHS}|\d{{1,2}}/\d{{1,2}}|{_MONTHS} (the )?{_ORDINAL}|"
               rf"(the )?{_ORDINAL} of {_MONTHS}|the {_ORDINAL}(?! (one|ones|option|time|slot|choice)\b))\b")
_TIME_WORDS = (r"\b(\d{1,2}(:\d{2})? ?(a\.?m\.?|p\.?m\.?)|\d{1,2}:\d{2}|\d{3,4}|noon|midday|morning|afternoon|"
               r"evening|half past \w+|quarter (past|to) \w+|(one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
               r"twelve)( thirty| fifteen| forty five| o'?clock)?( ?(am|pm|a m|p m|in the morning|in the afternoon))?|"
               r"at \d{1,2})\b")


# "whens your next opening", "what's your next available slot", "when can you fit me in", "earliest you can see me":
# the first free time, whatever the day (not "my next appointment", which is the caller's own)
_NEXT_OPENING = re.compile(
    r"\b(next|soonest|earliest) (opening|open (slot|time|spot)|available|availability|free (time|slot|spot)|slot|spot)s?"
    r"\b|\bfirst (available|opening)\b|\bwhen (can|could) (you|i|we) (fit|squeeze|get) (me|us|in)\b|"
    r"\b(earliest|soonest|how soon) (that )?(can |could )?(you|i|we) (can |could )?(see|fit|get|take|squeeze|come|"
    r"be seen)\b|\bwhat'?s (the|your) (soonest|earliest)\b")


def asks_next_opening(text: str) -> bool:
    """A question for the first free time, with no day in it ("whens your next opening")."""
    return _NEXT_OPENING.search(text) is not None and not has_date(text)


def has_date(text: str) -> bool:
    return re.search(_DATE_WORDS, text) is not None


# "Wednesday, not Tuesday", "at eleven instead of ten", "Friday rather than Monday": the day or hour after the
# negation is the one the caller turns down (it was read as the new one, the last day named).
_REJECTED_WHEN = re.compile(rf"\b(not|instead of|rather than)\s+((on|at|in)\s+)?(the\s+)?(?:{_DATE_WORDS}|{_TIME_WORDS})")
# "Monday's no good", "mornings don't work for me", "can't do Friday", "no mornings": a day or part of it turned down
_DAYPART_WORD = r"\b(?:the )?(?:morning|afternoon|evening)s?\b"
_TURNED_DOWN = re.compile(
    rf"(?:{_DATE_WORDS}|{_DAYPART_WORD})(?:'s| is| are)? (?:no good|not good|bad|out|a no go|not (?:going to |gonna )?"
    rf"work(?:ing)?|(?:(?:does|do|will|would)(?: not|n'?t)|won'?t) work)\b(?: for me)?|"
    rf"\bcan'?t (?:do|make)(?: it)?(?: on)? (?:{_DATE_WORDS}|{_DAYPART_WORD})|\bno {_DAYPART_WORD}")


def turns_down_a_day(text: str) -> bool:
    """"Oh shoot, Monday's no good actually": the turn says a day will not do."""
    return any(has_date(found.group(0)) for found in _TURNED_DOWN.finditer(text))


_HOUR_WORDS = r"\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_HOUR = rf"({_HOUR_WORDS})"
_BARE_TIME = rf"(?:{_HOUR_WORDS})(?::\d{{2}}| (?:thirty|fifteen|forty[- ]five|o'?clock|am|pm))?"


_MINUTE_WORDS = {"thirty": 30, "fifteen": 15, "forty five": 45, "forty-five": 45}
_CLOCK = re.compile(rf"\b(?:half past (?P<half>{_HOUR_WORDS})|(?P<hour>{_HOUR_WORDS})(?::(?P<minute>[0-5]\d)| "
                    rf"(?P<words>thirty|fifteen|forty[- ]five))?(?!:){_NOT_A_COUNT}|(?P<noon>noon|midday))\b")


def clock_time(text: str) -> tuple[int, int] | None:
    """The hour (1-12, or as said in digits) and minute of the one time of day a turn names, day or no day:
    "one works" (1, 0), "let's do the noon one" (12, 0), "four thirty is fine" (4, 30); None for none or for
    "the first one", "one of those"."""
    text = re.sub(rf"{_NOT_AN_HOUR}|\bone of\b", " ", text)
    text = re.sub(rf"\b(noon|midday|{_BARE_TIME}) ones?\b", r"\1", text)  # "the noon one", "the two thirty one"
    found = list(_CLOCK.finditer(text))
    if len(found) != 1:
        return None
    match = found[0]
    if match.group("noon"):
        return 12, 0
    said = match.group("half") or match.group("hour")
    hour = int(said) if said.isdigit() else _HOUR_WORDS.split("|").index(said)  # "one" is the second alternative
    minute = 30 if match.group("half") else int(match.group("minute") or _MINUTE_WORDS.get(match.group("words"), 0))
    return hour, minute


def without_rejected_when(text: str) -> str:
    """The text without the days and hours the caller says no to ("actually three not two" -> "actually at three":
    two bare hours side by side are both times)."""
    text = _TURNED_DOWN.sub(" ", _rejected_bare_hour(r"at \g<new>", text))
    return " ".join(_REJECTED_WHEN.sub(" ", text).split())




def _rejected_bare_hour(replacement: str, text: str) -> str:
    """"actually three not two", "eleven instead of ten thirty": two bare times, the second turned down
    (`replacement` names them `new`, `no` and `turned_down`)."""
    return re.sub(rf"(?<!at )\b(?P<new>{_BARE_TIME})\s+(?P<no>not|instead of|rather than)\s+"
                  rf"(?P<turned_down>{_BARE_TIME})\b(?! ?(people|users|calls|days|weeks|seats))", replacement, text)




def _with_time_cues(text: str) -> str:
    """A bare hour is a time when the caller offers it: "make it three", "can we do 11 instead" -> "at three"."""
    text = re.sub(rf"\b(make (it|that)|(change|switch|move|push) (it|that) to|(can|could) (we|you|i) do|how about|"
                  rf"what about|let'?s (do|say|go with)|go with|maybe)\s+(?P<hour>{_HOUR_WORDS})\b", r"at \g<hour>", text)
    text = re.sub(r"\b((around|at|about|by) )?lunch ?(time)?\b", "at noon", text)
    # "ten-ish", "tenish", "morning like ten": the hour said loosely is the hour
    text = re.sub(rf"(?<!at )\b({_HOUR_WORDS})[ -]?ish\b", r"at \1", text)
    text = re.sub(rf"\b(morning|afternoon|evening),? (?:like|around|about|say) (?=(?:{_HOUR_WORDS})\b)", r"\1 at ", text)
    # "at like ten", "around um 2", "at about noon": a filler between the cue and the hour hid the time
    text = re.sub(rf"\b(at|around|about|by)(?: (?:like|um|uh|er|maybe|say|about|around|roughly))+ "
                  rf"(?=(?:{_HOUR_WORDS}|noon|midday|half|quarter)\b)", r"\1 ", text)
    # ASR writes "two o'clock" as "2 o'clock"; "around 2", "about 2:30", "by 4" name a time as "at" does.
    text = re.sub(r"(?<!at )\b(\d{1,2}) ?o'?clock\b", r"at \1", text)
    text = re.sub(rf"\b(around|about|by|after) ((1[0-2]|0?[1-9])(:\d{{2}})?)\b(?! ?(st|nd|rd|th)\b){_NOT_A_COUNT}",
                  r"at \2", text)
    # "three not two": both are times, the second turned down
    text = _rejected_bare_hour(r"at \g<new> \g<no> at \g<turned_down>", text)
    return re.sub(rf"(?<!at )\b{_HOUR}\s+instead\b", r"at \1 instead", text)


def has_time(text: str) -> bool:
    text = _with_time_cues(text)
    return re.search(_TIME_WORDS, text) is not None and re.search(
        r"\d|noon|midday|morning|afternoon|evening|o'?clock|thirty|half|quarter|\b(at|around|by|am|pm)\b", text) is not None


_DAYPART_ONLY = re.compile(r"\b(in the |this |tomorrow )?(morning|afternoon|evening)\b")


def vague_time(text: str) -> str | None:
    """The part of the day when that is all the caller said of the time ("tomorrow morning"), else None."""
    match = _DAYPART_ONLY.search(text)
    rest = _DAYPART_ONLY.sub(" ", text)
    if match and not has_time(rest) and not re.search(rf"\b{_HOUR}\b", rest):  # "two in the afternoon" is a time
        return match.group(2)
    return None


def date_part(text: str) -> str:
    """Just the date words of a phrase ('next tuesday at 2pm' -> 'next tuesday')."""
    match = re.search(_DATE_WORDS, text)
    return match.group(0) if match else ""


def when_phrase(text: str) -> str:
    """The part of the turn that talks about when (dates, times), for the date parser."""
    text = re.sub(r"\b(\d{1,2})(\d{2})\b(?!\d)", r"\1:\2", text)  # ASR writes "ten thirty" as 1030
    parts = re.findall(r"\b(morning|afternoon|evening)s?\b", text)
    if len(set(parts)) > 1:  # "I'm busy in the morning, so Monday in the afternoon": the part said last
        text = re.sub(rf"\b(in the |this )?(?!{parts[-1]}s?\b)(morning|afternoon|evening)s?\b", " ", text)
    return _with_time_cues(text)
