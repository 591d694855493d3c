"""What a caller's words mean: intent and slots, robust to speech-recognition text and fillers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FILLERS = re.compile(r"\b(um+|uh+|erm|hmm+|you know|i mean|like,|so yeah|yeah so|okay so|well)\b[,.]?\s*", re.I)
# Spoken agreement, however an STT spells it ("Mm-hmm.", "uh huh", "Mhm"): a yes, not a filler (stripping "uh"
# and "mm" as fillers left "-huh" and "mm-", and a caller's "mhm" at a read-back got a clarifying question).
_AGREEMENT = re.compile(r"\b(uh[- ]?huh|mm+[- ]?hmm+|m+h+m+)\b", re.I)
_SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}


def normalize(text: str) -> str:
    """Lower-case, fillers and stray punctuation removed, spaces collapsed."""
    text = text.replace("\u2019", "'").lower()
    text = _AGREEMENT.sub("yes", text)
    text = _FILLERS.sub(" ", text)
    text = re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", text)  # speech recognition writes 10:30 as 10.30
    text = re.sub(r"\b(1[0-2]|0?[1-9]) ([0-5]\d)\b(?! ?(minutes?|mins?|seconds?|dollars?|percent|calls?))", r"\1:\2",
                  text)  # ...and as "10 30"
    text = re.sub(r"[^\w\s':/+-]", " ", text)
    return " ".join(text.split())


# How a speech recogniser writes a business's name when it mishears it, per business name (lower case): the
# dialog reads them as the name ("what does bite eye do", "is this by AI?").
HEARD_AS = {
    "byteai": re.compile(r"\b(by|bite|byte|bye|buy)[ -]?(ai|a i|eye|aye)\b|\bbyte ?ai\b"),
}


def with_business_name(text: str, business: str) -> str:
    """`text` (normalized) with the business's misheard spellings written as its name."""
    heard = HEARD_AS.get(business.lower())
    return heard.sub(business.lower(), text) if heard else text


def asks_about_the_business(text: str, business: str) -> str | None:
    """"What is ByteAI?" -> "what"; "Is this ByteAI?" -> "identity"; else None."""
    name = re.escape(business.lower())
    if re.search(rf"\b(what('s| is| does) {name}( do)?|what {name} (is|does))\b", text):
        return "what"
    if re.search(rf"\b(is this|am i (speaking|talking) (to|with)|have i (reached|got)|did i reach) {name}\b", text):
        return "identity"
    return None


_HOW_ARE_YOU = re.compile(r"\b(how are you|how'?s it going|how (are )?you doing|how are things|how'?s your day)\b")
_WAIT = re.compile(r"^(yes |ok |okay |sure |sorry )?(hold on|hang on|wait|one (sec|second|moment|minute)|just a (sec|second|"
                   r"moment|minute)|give me (a|one) (sec|second|moment|minute)|bear with me)"
                   r"( (a|one|just a) (sec|second|moment|minute)| please| for me| ok| a bit| let me (check|look|see))*$")
# Ends the call from wherever the caller is (outside a booking): "no, that's it", "cool, talk later"
CLOSING_WORDS = re.compile(r"\b(that'?s it|that'?s all|that is all|that'?ll (do|be all)|talk (to you )?later|"
                           r"wrong number|good ?bye|bye( bye)?|(got to|gotta|have to) go|take care|cheers|"
                           r"have a (great|good|nice|lovely) (day|one|evening|night|weekend|afternoon))\b")


def asks_how_agent_is(text: str) -> bool:
    """"How are you doing today?": small talk, answered as such."""
    return _HOW_ARE_YOU.search(text) is not None


def asks_to_wait(text: str) -> bool:
    """"Hold on one sec": the caller needs a moment (a short turn only; a question may follow the words)."""
    return len(text.split()) <= 6 and _WAIT.search(text) is not None


def _has(text: str, *patterns: str) -> bool:
    return any(re.search(pattern, text) for pattern in patterns)


@dataclass(frozen=True)
class Intent:
    name: str  # book | check | cancel_booking | escalate | goodbye | thanks | greeting | yes | no | faq
    frustrated: bool = False
    doubtful: bool = False  # the classifier could not tell; the old patterns broke the tie


_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)"
_DAYPART = rf"(today|tomorrow|tonight|{_WEEKDAYS}|morning|afternoon|evening|next week|this week|weekend)"
# Asking for a meeting, with someone or not: these win over a request for a person.
_MEETING = (r"\bbook\b", r"\bschedul", r"\bset up (an|a) (appointment|call|meeting|demo)", r"\bset up (a|some) time\b",
            r"\bfind (a|some) time\b", r"\bmake (an|a) appointment")
_BOOK = (*_MEETING, r"\bbooking\b",
         rf"\b(anything|something|any (slots?|times?|openings?|appointments?)|a (slot|time|opening)) "
         rf"(available|open|free)\b.*\b{_DAYPART}\b",
         rf"\b(available|free|open) (slots?|times?|appointments?)\b.*\b{_DAYPART}\b",
         rf"\b(have|got) (anything|something|any (slots?|times?|openings?|availability|appointments?))\b.*\b{_DAYPART}\b",
         r"\b(can|could|may) (i|we) (come|stop|drop) (in|by|over)\b",
         r"\b(get|have|arrange|set up|like|want|need) (a|an) (demo|consultation|meeting)\b",
         r"\bmake (an|a) (appointment|reservation)", r"\b(an|a|the) appointment\b.*\b(for|on|at)\b",
         r"\bi('d| would) like (an|a) (appointment|meeting|demo|call)", r"\bneed (an|a) appointment",
         r"\bwant (an|a) appointment", r"\breserve\b", r"\bappointment\b")
_CHECK = (r"\b(check|confirm|verify|look up|find|what time is|when is)\b.*\b(appointment|booking|reservation)",
          r"\b(do|did) i have (an|a|any) (appointment|booking)", r"\bmy (appointment|booking)\b",
          r"\bis my (appointment|booking)", r"\bwhen('s| is) my\b",
          r"\b(do|did) i have (anything|something|an? \w+) (booked|scheduled)\b", r"\bam i (booked|scheduled)\b")
_PEOPLE = (r"(human|real person|a person|person|someone|somebody|agent|representative|rep|operator|specialist|"
           r"manager|supervisor|live support|customer service)")
# A request for a person, not a mention of one ("Which languages does the agent speak?" is a question about
# the product): talking to / getting / being put through to someone, a call back, or the bare word alone.
_ESCALATE = (rf"\b(talk|speak|chat)\s+(to|with)\b.*\b({_PEOPLE}|sales|billing|support|tech support)\b",
             rf"\b(get|want|need|give me|can i (get|have)|i'?d like|put me through to|let me (talk|speak))\b"
             rf"(\s+\w+){{0,3}}?\s+(a |an |the |your |some )?(real |live |actual )?{_PEOPLE}\b",
             r"\b(transfer|connect|put) me\b", r"\bcall me back\b", r"\bcallback\b",
             rf"^((a|an|the) )?(real |live )?{_PEOPLE}( please)?$")
_FRUSTRATED = (r"\b(ridiculous|useless|terrible|awful|frustrat\w*|angry|annoy\w*|not helpful|unhelpful|"
               r"stupid|waste of (my )?time|fed up|sick of|this is (crazy|insane)|damn|hell|worst)\b",
               r"\byou('re| are) not (listening|understanding|helping)", r"\bnot what i (asked|said)\b")
_GOODBYE = (r"\b(bye|goodbye|good bye|bye bye|see you|talk to you later|have a (good|nice|great) (day|one))\b",
            r"^(no|nope|nah)[, ]*(that'?s (all|it)|thanks?|thank you|i'?m (good|fine|all set)|nothing else)",
            r"\b(that'?s all|that is all|that'?s it|nothing else|i'?m all set|i'?m good thanks|no more questions)\b",
            r"^(no|nope|nah) (thanks?|thank you)$")
_THANKS = (r"^(thanks|thank you|thank you so much|great thanks|perfect thanks|awesome thanks|ok thanks|okay thanks)$",
           r"^(great|perfect|awesome|cool|ok|okay|got it|sounds good|alright)[, ]*(thanks?|thank you)?$")
_GREETING = (r"^(hi|hello|hey|good (morning|afternoon|evening)|hi there|hello there)( there)?$",)
# What callers put before what they mean: fillers and a hello. One vocabulary for every pattern that skips them.
_FILLER = r"(actually|oh|um|uh|well|hmm|so|sorry|ah|and|okay|ok)"
_HELLO = r"(hi|hello|hey)( there)?"
_LEAD_IN = rf"^({_FILLER},? )*"
_YES = (_LEAD_IN + r"(yes|yeah|yep|yup|sure|correct|right|exactly|absolutely|definitely|please do|go ahead|do it|"
        r"that'?s (right|correct|it|fine|perfect)|sounds (good|great|right)|perfect|ok|okay|confirm|book it|"
        r"yes please|uh huh|affirmative|of course)\b",)
_NO = (_LEAD_IN + r"(no|nope|nah|not really|wrong|incorrect|that'?s (wrong|not right)|negative|don'?t|do not|wait|"
       r"actually no|cancel that|never mind|nevermind)\b",)


_REPEAT = (r"^((sorry|pardon|pardon me|excuse me) )?(sorry|pardon|pardon me|what|huh|excuse me|come again|say again)$",
           r"\b(repeat (that|it|yourself|the last part|what you said)|say (that|it) again|come again|"
           r"what did you (just )?say|what was that|what (time|day|date) was that|i (did ?n'?t|didn'?t|couldn'?t|could not|did not) "
           r"(catch|hear|get|understand) (that|you|it|what you said)|one more time)\b",
           r"^(sorry |sorry, )?(can|could|would) you (please )?repeat( that| it| yourself| please| again)*$")
_WANTS_TO_ASK = (r"^(i|i've|i have) (got |have )?(a|one|another|some) (quick |small )?questions?( for you)?$",
                 r"^(can|could|may) i ask (you )?(a|one|another|some) (quick )?questions?$",
                 r"^((hi|hello|hey) )?(can|could) you help( me)?( please| out)?$|^i (need|could use) (some )?help( please)?$")
# "What do you do?", "tell me about your product": the question every business's FAQ answers first, which a
# sentence embedding matches poorly ("can you tell me what you do" was closest to the opening hours, 0.22).
_WHAT_BUSINESS_DOES = re.compile(
    r"\b(what (exactly |is it )?(do|does) (you|you guys|your (company|business|product|service)|y'?all) do|"
    r"(tell|explain to) me (a bit |a little |more )?(about|what) (you|your (company|business|product|service|"
    r"products|services))( (do|is|are|does))?|(information|info|details) (on|about) (you|your (company|business|"
    r"product|service|products|services))|what (is|are) (your (company|business|product|service)|you guys))"
    r"( exactly| here| again)?( please)?$")


_PRESENCE = (rf"^({_HELLO} )*" r"(are you (still )?there|is (anyone|anybody|someone) (there|on the line)|"
             r"can you hear me( now| okay| ok)?|are you with me)( (hello|still))?$|^hello( hello)+$")


_IDENTITY = (r"\bwhat (else )?can you (do|help( me)? with)( for me)?\b|"
             rf"^(({_FILLER}|{_HELLO}) )*" r"(who am i (speaking|talking) (with|to)|who is this|who are you|what are you|what can you do|"
             r"what can you help( me)? with|what do you do|how can you help|"
             r"(are you|am i (speaking|talking) (with|to)|is this) (a |an )?(real |actual |live )?"
             r"(person|human|robot|bot|machine|computer|ai|recording))\b")


def asks_who_is_speaking(text: str) -> bool:
    """"Who am I speaking with?", "Are you a robot?": a question about the agent, not a request for a person."""
    return _has(text, _IDENTITY)


_DID_NOT_HELP = re.compile(r"\b(i )?(already (tried|did|done)( that| it| this)?|(tried|did|done) (that|it|this) already|(that|it) (didn'?t|doesn'?t|did not|does not) "
                           r"work|(that|it)'?s not working|(that|it) (didn'?t|did not) help|still (doesn'?t|can'?t|cannot|"
                           r"isn'?t|not working))\b")


def says_it_did_not_help(text: str) -> bool:
    """"I already tried that", "it didn't work": the last answer did not solve it."""
    return _DID_NOT_HELP.search(text) is not None


def checks_presence(text: str) -> bool:
    """"Hello? Are you there?": the caller is checking the line, not asking a question."""
    return _has(text, _PRESENCE)


_NOT_AN_HOUR = r"\b(that|this|the|which|whichever|any|some|no|earlier|later|first|last|other) one\b"
# A number that counts something is not an hour: "about 20 minutes", "2 appointments", "after 3 days".
_NOT_A_COUNT = (r"(?! (minutes?|mins?|hours?|seconds?|secs?|days?|weeks?|months?|years?|percent|dollars?|calls?|"
                r"people|users?|seats?|times|appointments?|bookings?)\b)")


def bare_hour_as_time(text: str, digits_only: bool = False) -> str:
    """When the agent has asked what time: a bare hour ("um, 2?", "three maybe") is that time. While it asks
    something else (a name, a yes), only an hour in digits counts ("10 is fine")."""
    if has_time(text) or has_date(text) or len(text.split()) > 7 or _has(text, _NOT_AN_HOUR, r"\bbefore\b"):
        return text
    hour = r"(\d{1,2})" if digits_only else _HOUR
    return re.sub(rf"^(.*?)\b{hour}\b(?!:){_NOT_A_COUNT}", r"\1at \2", text, count=1)


def asks_to_repeat(text: str) -> bool:
    """"Sorry, what was that?": a short turn asking to hear the last reply again."""
    return len(text.split()) <= 10 and _has(text, *_REPEAT)


_ABOUT_TOPIC = re.compile(
    r"^((hi|hello|hey|yes|yeah|so|um|uh)( there)? )*((i'?m|i am) calling|i'?m ringing|i have (a )?(quick )?questions?|"
    r"i'?ve got (a )?(quick )?questions?|(it'?s|this is) (about|regarding)|i need help|i need some help)"
    r" (about|regarding|with|on) (?P<whose>my |the |your |our )?(?P<topic>\w+( \w+)?)$")


def asks_what_business_does(text: str) -> bool:
    """"What do you do?", "I'm looking for some information on your product", in any words of that kind."""
    return _WHAT_BUSINESS_DOES.search(text) is not None


def asks_to_ask(text: str) -> bool:
    """"I have a question": no question yet."""
    return _has(text, *_WANTS_TO_ASK)


def topic_only(text: str) -> str | None:
    """"I'm calling about my account": a topic, not yet a question (answering it would be a guess).
    Returns it as the agent can say it back ("your account", "the Pro plan")."""
    match = _ABOUT_TOPIC.match(text)
    if not match or match.group("topic") in ("appointment", "booking"):
        return None
    whose = {"my ": "your ", "our ": "your ", "your ": "our ", "the ": "the "}.get(match.group("whose") or "", "")
    topic = re.sub(r"\bapi\b", "API", re.sub(r"\b(pro|business|slack|byteai)\b", lambda m: m.group(1).capitalize(),
                                              match.group("topic")))
    return whose + topic


def _offers_a_time(text: str) -> bool:
    """A day offered as a time to meet ("Monday at 11", "Tuesday would work"), not a day in a question or in
    the story of a problem ("it stopped working this morning at 9")."""
    if not has_date(text) or _has(text, r"^(what|when|where|which|who|why|how|are|is|do|does|can|could|will)\b",
                                  r"\b(stopped|broke|broken|crash\w*|fail\w*|error|not working|isn'?t working|"
                                  r"doesn'?t work|down|since|ago|happened|charged|tried)\b"):
        return False
    return (has_time(text) or len(text.split()) <= 3
            or _has(text, r"\b(works?|would work|good for me|is good|is fine|i'?m free|i am free|i can do|how about|"
                          r"what about|available|suits? me|see|meet|visit|come in)\b"))


_OPENER = re.compile(rf"^((yes|yeah|yep|{_FILLER}|{_HELLO}) )+")
_QUESTION_START = r"^(what|how|when|where|which|who|why|is there|are there|do you|does|can you tell)\b"


def detect_intent(text: str) -> Intent:
    """The caller's main intent in one normalized turn."""
    opener = _OPENER.match(text)
    rest = text[opener.end():] if opener else ""
    if len(rest.split()) >= 4 and _has(rest, _QUESTION_START):
        return detect_intent(rest)  # "yeah hi, so what's included in the Business plan?" is a question, not a yes
    frustrated = _has(text, *_FRUSTRATED)
    # "set up a time to talk to someone about the Business plan", "I need to see someone on the 30th" ask for
    # a meeting: booking wins (a call back stays a hand-off).
    meeting = _has(text, *_MEETING) or (has_date(text) and not _has(text, r"\bcall me back\b|\bcallback\b"))
    if _has(text, *_ESCALATE) and not meeting:
        return Intent("escalate", frustrated)
    if _has(text, r"\b(cancel|reschedule|move|change)\b.*\b(appointment|booking)"):
        return Intent("cancel_booking", frustrated)
    if _has(text, *_CHECK) and not _has(text, r"\b(book|schedule|make|set up|new)\b"):
        return Intent("check", frustrated)
    if _has(text, *_BOOK) and not _has(text, r"\b(how|what|can i|do you)\b.*\b(cancel|price|cost)\b"):
        return Intent("book", frustrated)
    if _has(text, *_GOODBYE):
        return Intent("goodbye", frustrated)
    if _has(text, *_YES):
        return Intent("yes", frustrated)
    if _has(text, *_NO):
        return Intent("no", frustrated)
    if _has(text, *_THANKS):
        return Intent("thanks", frustrated)
    if _has(text, *_GREETING):
        return Intent("greeting", frustrated)
    if _offers_a_time(text):
        return Intent("book", frustrated)  # "Tuesday would work, around lunch": a day offered is a booking
    return Intent("faq", frustrated)


_NAME_PATTERNS = (
    r"\bit'?s ([a-z][a-z'-]+) with an? [a-z]\b",  # "no, it's Karin with an I"
    r"\bmy name is ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\b(?:my )?name's ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\bname is ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\bthis is ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\bit'?s ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)$",
    r"\b(?:under|for) the name (?:of )?([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)",
    r"\bi'?m ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)$",
    r"\bcall me ([a-z][a-z'-]+)",
)
_NOT_NAMES = {
    "calling", "looking", "wondering", "trying", "interested", "sorry", "good", "fine", "here", "just", "not", "so",
    "a", "the", "about", "going", "having", "available", "free", "tomorrow", "today", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "next", "yes", "no", "okay", "ok", "sure", "great",
    "calling about", "in", "at", "on", "with", "your", "from", "byteai", "bite", "it", "that", "there",
    "yeah", "yep", "yup", "nope", "nah", "hello", "hi", "hey", "right", "correct", "wrong", "please", "actually",
    "wait", "hold", "what", "why", "how", "who", "when", "where", "um", "uh", "me", "us", "my", "our", "him", "her",
    "them", "you", "sure", "now", "later", "spelled", "still", "also", "really", "sir", "madam",
}
# Titles before a name ("Mrs. Dorothy Abernathy"), left out of it
_TITLES = {"mr", "mrs", "ms", "miss", "mister", "missus", "dr", "doctor", "sir", "madam"}
# "...wednesday at ten am for george": a name at the end of a booking request, unless it is one of these
_FOR_NOT_NAMES = {"support", "billing", "pricing", "sales", "demo", "consultation", "call", "meeting",
                  "appointment", "lunch", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                  "ten", "eleven", "twelve", "noon", "half", "an", "hour", "minutes", "people", "team", "both"}


def extract_name(text: str, expecting_name: bool = False) -> str | None:
    """A name the caller gives ('my name is Maria Lopez'); a bare answer counts when we asked for it."""
    text = re.sub(rf"\b({'|'.join(_TITLES)}) ", "", text)  # "my name is Mrs. Dorothy Abernathy"
    for pattern in _NAME_PATTERNS:
        match = re.search(pattern, text)
        if match:
            name = _clean_name(match.group(1))
            if name:
                return name
    ending = re.search(r"\bfor ([a-z][a-z'-]+(?: [a-z][a-z'-]+)?)$", text)
    if ending and (has_date(text) or has_time(text)) and not (has_date(ending.group(1)) or has_time(ending.group(1))):
        name = _clean_name(ending.group(1))
        if name and not set(name.lower().split()) & _FOR_NOT_NAMES:
            return name
    if expecting_name:
        # "it's for Sarah Connor", "put it under Jim": the words around the name are not part of it
        words = [w for w in re.sub(r"[^a-z' -]", " ", text).split()
                 if w not in ("it's", "its", "it", "is", "my", "name", "for", "under", "put", "the")]
        if 1 <= len(words) <= 3:
            return _clean_name(" ".join(words))
    return None


def _clean_name(raw: str) -> str | None:
    words = [w for w in raw.split() if w not in ("and", "please", "thanks", "thank", "you")]
    words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]  # "it's Dave, Dave Kowalski"
    if not words or words[0] in _NOT_NAMES or any(w.isdigit() for w in words):
        return None
    return " ".join(w.capitalize() for w in words[:3])


def extract_phone_digits(text: str) -> str | None:
    """Digits of a phone number in the text, spoken ('five five five ...') or written; None if too short."""
    tokens = re.findall(r"\+?\d+|[a-z]+", text)
    digits = ""
    best = ""
    for token in tokens:
        if token.lstrip("+").isdigit():
            digits += token.lstrip("+")
        elif token in _SPOKEN_DIGITS and (token not in ("o", "oh") or digits):
            digits += _SPOKEN_DIGITS[token]
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
_DATE_WORDS = (rf"\b(today|tonight|tomorrow|day after tomorrow|this {_WEEKDAYS}|next {_WEEKDAYS}|{_WEEKDAYS}|"
               rf"next week|in \w+ days?|{_MONTHS} \d{{1,2}}(st|nd|rd|th)?|the \d{{1,2}}(st|nd|rd|th)?( of {_MONTHS})?|"
               rf"\d{{1,2}}(st|nd|rd|th)? of {_MONTHS}|\d{{1,2}}/\d{{1,2}})\b")
_TIME_WORDS = (r"\b(\d{1,2}(:\d{2})? ?(a\.?m\.?|p\.?m\.?)|\d{1,2}:\d{2}|\d{3,4}|noon|midday|morning|afternoon|"
               r"evening|half past \w+|quarter (past|to) \w+|(one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
               r"twelve)( thirty| fifteen| forty five| o'?clock)?( ?(am|pm|a m|p m|in the morning|in the afternoon))?|"
               r"at \d{1,2})\b")


def has_date(text: str) -> bool:
    return re.search(_DATE_WORDS, text) is not None


# "Wednesday, not Tuesday", "at eleven instead of ten", "Friday rather than Monday": the day or hour after the
# negation is the one the caller turns down (it was read as the new one, the last day named).
_REJECTED_WHEN = re.compile(rf"\b(not|instead of|rather than)\s+((on|at)\s+)?(?:{_DATE_WORDS}|{_TIME_WORDS})")


def without_rejected_when(text: str) -> str:
    """The text without the days and hours the caller says no to."""
    return " ".join(_REJECTED_WHEN.sub(" ", text).split())


_HOUR = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"


def _with_time_cues(text: str) -> str:
    """A bare hour is a time when the caller offers it: "make it three", "can we do 11 instead" -> "at three"."""
    text = re.sub(rf"\b(make it|can we do|could we do|how about|what about|let'?s do|let'?s say|maybe)\s+{_HOUR}\b",
                  r"at \2", text)
    text = re.sub(r"\b((around|at|about|by) )?lunch ?(time)?\b", "at noon", text)
    # ASR writes "two o'clock" as "2 o'clock"; "around 2", "about 2:30", "by 4" name a time as "at" does.
    text = re.sub(r"(?<!at )\b(\d{1,2}) ?o'?clock\b", r"at \1", text)
    text = re.sub(rf"\b(around|about|by|after) ((1[0-2]|0?[1-9])(:\d{{2}})?)\b(?! ?(st|nd|rd|th)\b){_NOT_A_COUNT}",
                  r"at \2", text)
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
    return _with_time_cues(text)
