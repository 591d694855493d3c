"""What a caller's words mean: intent and small talk, robust to speech-recognition text and fillers (the slots,
days, times, names and numbers, are in `slots`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from voiceagent.brain.heard import CONTRACTED, NAMES_FIRST, NO_APOSTROPHE, SAID_AS
from voiceagent.brain.slots import WEEKDAYS, has_date, has_time

_FILLERS = re.compile(r"\b(um+|uh+|erm|hmm+|you know|i mean|like,|so yeah|yeah so|okay so|well)\b[,.]?\s*", re.I)
# Spoken agreement, however an STT spells it ("Mm-hmm.", "uh huh", "Mhm"): a yes, not a filler (stripping "uh"
# and "mm" as fillers left "-huh" and "mm-", and a caller's "mhm" at a read-back got a clarifying question).
_AGREEMENT = re.compile(r"\b(uh[- ]?huh|mm+[- ]?hmm+|m+h+m+)\b", re.I)


def normalize(text: str) -> str:
    """Lower-case, fillers and stray punctuation removed, spaces collapsed."""
    text = text.replace("\u2019", "'").lower()
    text = NAMES_FIRST.sub(r"\1name's", NO_APOSTROPHE.sub(lambda found: CONTRACTED[found.group(1)], text))
    text = _AGREEMENT.sub("yes", text)
    text = _FILLERS.sub(" ", text)
    # an HTTP status heard as "4.29" or "5.03" (a time on the quarter hour stays one), then 10:30 written 10.30
    text = re.sub(r"\b([45])\.(0[1-9]|1[0-46-9]|2\d|3[1-9]|4[0-46-9]|5\d)\b", r"\1\2", text)
    text = re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", text)  # speech recognition writes 10:30 as 10.30
    text = re.sub(r"\b(1[0-2]|0?[1-9]) ([0-5]\d)\b(?! ?(minutes?|mins?|seconds?|dollars?|percent|calls?))", r"\1:\2",
                  text)  # ...and as "10 30"
    text = re.sub(r"[^\w\s':/+-]", " ", text)
    for pattern, said in SAID_AS:
        text = pattern.sub(said, text)
    return " ".join(text.split())


def asks_about_the_business(text: str, business: str) -> str | None:
    """"What is ByteAI?" -> "what"; "Is this ByteAI?" -> "identity"; "Is this Tony's Pizza?" -> "elsewhere" (a
    wrong number); else None."""
    name = re.escape(business.lower())
    if re.search(rf"\b(what('s| is| does) {name}( do)?|what {name} (is|does))\b", text) or re.search(
            r"\bwhat (exactly )?(do|does) (you guys|y'?all|your (company|business|firm)) (actually |exactly |even )?do\b",
            text):  # "what do you guys do at mac please" (a noisy "exactly")
        return "what"
    if re.search(rf"\b(is this|am i (speaking|talking) (to|with)|have i (reached|got)|did i reach) {name}\b", text):
        return "identity"
    if re.search(rf"^((hi|hello|hey|yes|yeah|sorry|um|uh)( there)? )*(is this|is that|am i (speaking|talking) (to|with)|"
                 rf"have i reached|did i reach) (?!{name}\b)(the )?[a-z]+'s( [a-z]+){{0,3}}$", text):
        return "elsewhere"  # "is this tony's pizza", "have i reached doctor patel's office"
    return None


_HOW_ARE_YOU = re.compile(r"\b(how are you|how'?s it going|how (are )?you doing|how are things|how'?s your day)\b")
_WAIT = re.compile(r"^(yes |ok |okay |sure |sorry )?((i'?m|in|i am) (driving|in the car|at work|walking)( right now)? )?"
                   r"(hold on|hang on|wait|one (sec|second|moment|minute)|just a (sec|second|"
                   r"moment|minute)|give me (a|one) (sec|second|moment|minute)|bear with me)"
                   r"( (a|one|just a) (sec|second|moment|minute)| please| for me| ok| a bit| let me (check|look|see)| hold on| hang on|"
                   r" wait)*$")
# Sign-offs, one list with three reaches. SIGNS_OFF: words that leave a booking half-way (the caller first hears that
# nothing is booked yet; a second one ends the call).
_BYE = r"good ?bye|bye( bye)?"
_SIGN_OFF = rf"{_BYE}|that'?s all|that is all|i'?ll call (you )?back"
SIGNS_OFF = re.compile(rf"\b({_SIGN_OFF})\b")
SAYS_BYE = re.compile(rf"\b({_BYE})\b")  # "great thanks bye": leaving for sure
# A goodbye the call may end on half-way through a booking (a bare "ok" or "thanks" there is not one)
_SAYS_GOODBYE = (rf"{_SIGN_OFF}|talk (to you )?later|(got to|gotta|have to) go|hang(ing)? up|see (you|ya)|"
                 r"catch (you|ya) later|take care|that'?ll (do|be all)")
SAYS_GOODBYE = re.compile(rf"\b({_SAYS_GOODBYE})\b")
# Ends the call outside a booking, where "no, that's it", "cheers" or "wrong number" cannot mean anything else
CLOSING_WORDS = re.compile(rf"\b({_SAYS_GOODBYE}|that'?s it|wrong number|cheers|"
                           r"have a (great|good|nice|lovely) (day|one|evening|night|weekend|afternoon))\b")


# A turn that opens with a question ("ok and how much is that one", "do you guys have an office in london")
ASKS_FIRST = re.compile(r"^((ok|okay|alright|right|and|so|but|oh|yes|yeah|no|then|also|sorry) )*(how|what|what's|when|"
                        r"when's|where|where's|which|who|who's|why|can|could|do|does|did|is|are|will|would|should)\b")


def asks_how_agent_is(text: str) -> bool:
    """"How are you doing today?": small talk, answered as such."""
    return _HOW_ARE_YOU.search(text) is not None


def asks_to_wait(text: str) -> bool:
    """"Hold on one sec": the caller needs a moment (a short turn only; a question may follow the words)."""
    return len(text.split()) <= 8 and _WAIT.search(text) is not None


# A question about the appointment itself, not about the caller's own booking: "how long is the appointment?",
# "what's the consultation for?", "who will I be talking to?"
_MEETING_NOUN = r"(appointments?|consultations?|meetings?|sessions?|demos?|call)"
_ABOUT_APPOINTMENT = re.compile(
    rf"\bhow long (is|are|will|would|does|do) (the |an |a |this |that |these |my |it )?({_MEETING_NOUN} )?"
    r"(be|take|last|go|run)?\b|"
    rf"\bhow many minutes (is|are|will|does) (the |an |a |this |my )?{_MEETING_NOUN}\b|"
    rf"\bwhat('?s| is| are) (the |an |a |this |that |these )?{_MEETING_NOUN} (for|about|like)\b|"
    rf"\bwhat (happens|do we (do|talk about)|will we (do|talk about)) (in|at|during) (the |an |a )?{_MEETING_NOUN}\b|"
    r"\bwho (will|would|do) i (be )?(talk|speak|meet)(ing)? (to|with)\b")


def asks_about_the_appointment(text: str, booking: bool = False) -> bool:
    """A question about what an appointment is (its length, its point, who it is with); with "how long", only
    when it names an appointment, or asks "how long is it?" while one is being booked (after the free trial's
    answer, that is the trial's)."""
    found = _ABOUT_APPOINTMENT.search(text)
    if found is None:
        return False
    if found.group(0).startswith("how long") and not re.search(_MEETING_NOUN, text):
        return booking and re.fullmatch(r"(and |so |but |wait |ok |okay )*how long (is|will|does|would) it( be| take|"
                                        r" last)?", text) is not None
    return True


def _has(text: str, *patterns: str) -> bool:
    return any(re.search(pattern, text) for pattern in patterns)


@dataclass(frozen=True)
class Intent:
    name: str  # book | check | cancel_booking | escalate | goodbye | thanks | greeting | yes | no | faq
    frustrated: bool = False
    doubtful: bool = False  # the classifier could not tell; the old patterns broke the tie


_DAYPART = rf"(today|tomorrow|tonight|{WEEKDAYS}|morning|afternoon|evening|next week|this week|weekend)"
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
             rf"^((a|an|the) )?(real |live )?{_PEOPLE}( please| {_PEOPLE})*$")
# Words that name a person or a hand-off: the classifier's "escalate" half-way through a booking needs one ("Daniel
# Kim" heard as "can you look in?" at the name question opened a ticket)
NAMES_A_PERSON = re.compile(rf"\b({_PEOPLE}|transfer|connect|put me through|call me back|callback|sales|billing|"
                            r"support|ticket|team|staff|people)\b")
_FRUSTRATED = (r"\b(ridiculous|useless|terrible|awful|frustrat\w*|angry|annoy\w*|not helpful|unhelpful|"
               r"stupid|waste of (my )?time|fed up|sick of|this is (crazy|insane)|damn|hell|worst|"
               r"(losing|lost|costing (me|us)) (money|customers|business|sales|clients))\b",
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
    r"\b(what (exactly |is it )?(do|does) (you|you guys|your (company|business|product|service)|y'?all) "
    r"(actually |really |exactly )?do|"
    r"(tell|explain to) me (a bit |a little |more )?(about|what) (you|your (company|business|product|service|"
    r"products|services))( (do|is|are|does))?|(information|info|details) (on|about) (you|your (company|business|"
    r"product|service|products|services))|what (is|are) (your (company|business|product|service)|you guys)|"
    # "honestly i have no idea what you guys actually do"
    r"(no idea|not sure|don'?t (really )?know|wondering) what (it is )?(you|you guys|y'?all|your (company|business)) "
    r"(actually |really |exactly )?do)"
    r"( exactly| here| again)?( please)?$")


_PRESENCE = (rf"^({_HELLO} )*" r"(are you (still )?there|is (anyone|anybody|someone) (there|on the line)|"
             r"can you hear me( now| okay| ok)?|are you with me)( (hello|still))?$|^hello( hello)+$")


_IDENTITY = (r"\bwhat (else )?can you (do|help( me)? with)( for me)?\b|"
             rf"^(({_FILLER}|{_HELLO}) )*" r"(who am i (speaking|talking) (with|to)|who is this|who are you|what are you|what can you do|"
             r"what can you help( me)? with|what do you do|how can you help|"
             r"(are you|am i (speaking|talking) (with|to)|is this) (a |an )?(real |actual |live )?"
             r"(person|human|robot|bot|machine|computer|ai|recording))\b|"
             r"\b(are you|am i (speaking|talking) (with|to)) (a |an )?(real |actual |live )?(person|human|robot|bot|machine)\b|"
             r"\b(what'?s|what is) your name\b|\bdo you have a name\b")


def asks_who_is_speaking(text: str) -> bool:
    """"Who am I speaking with?", "Are you a robot?": a question about the agent, not a request for a person."""
    return _has(text, _IDENTITY)


_DID_NOT_HELP = re.compile(r"\b(i )?(already (tried|did|done)( that| it| this)?|(tried|did|done) (that|it|this) already|(that|it) (didn'?t|doesn'?t|did not|does not) "
                           r"work|(that|it)'?s not working|(that|it) (didn'?t|did not) help|still (doesn'?t|can'?t|cannot|"
                           r"isn'?t|not working)|already (checked|allowed|enabled|cleared|reconnected|restarted|reinstalled|"
                           r"updated|reset)|(it )?still happens|keeps happening|still (broken|the same|nothin'?g?|no luck)|(didn'?t|did not) do (nothin'?g?|anything)|"
                           r"no luck|(i|we) (checked|double checked|tried)( (that|it|this|twice|again))?$|"
                           r"(again|too|already|twice|both)( \w+)? nothing$|"  # "...and installed it again too. nothing."
                           # the answer's own advice was followed: "the status page says everything is fine"
                           r"that'?s the (whole |real )?problem|(says|shows) (everything|all|it'?s|its) (is )?(fine|"
                           r"ok|okay|green|up|working)|"
                           # what the answer said would come did not: "the reset email never showed up"
                           r"never (came|arrived|showed up|turned up|got here)|(didn'?t|did not|haven'?t|have not|"
                           r"hasn'?t|has not|never) (receive[d]?|arrive[d]?|come|show(n|ed)? up)|(didn'?t|did not|"
                           r"haven'?t|have not|never) (get|got|gotten) (the|an|any|a|my) (e-?mail|link|code|message|text)s?)\b")


# Words that only take in what was said ("ok cool", "sweet", "got it", "fair enough"): no yes to a question
_ACKNOWLEDGING = frozenset("ok okay alright aight all right cool sweet great good nice fine got it gotcha i see sounds "
                           "perfect awesome understood makes sense fair enough oh ah wow excellent lovely brilliant "
                           "that's thats very so well then hmm good to know noted".split())
# ...or that says the caller will go and do what the answer said ("ok i'll try the cookie thing")
_WILL_TRY = re.compile(r"^((ok|okay|alright|cool|great) )*(i'?ll|i will|let me|we'?ll) (try|do|check) (that|it|this|those|"
                       r"them|the [a-z ]{1,25})( (then|now|first))?$")


# ...of which these take in what was said and accept no offer ("would you like to book one?" - "ok good to know")
_TAKING_IN = frozenset("know noted see understood sense enough got gotcha".split())


def acknowledges(text: str) -> bool:
    """A turn that only acknowledges the last reply: "ok cool", "sweet", "got it", "good to know"."""
    words = re.findall(r"[a-z']+", text.lower())
    return bool(words) and (all(word in _ACKNOWLEDGING for word in words)
                            or _WILL_TRY.match(" ".join(words)) is not None)


# A turn that ends in thanks: when nothing else in it could be placed ("so found it in stamp stamp so much", a
# caller's "oh found it in spam, thanks so much" on a noisy line), the thanks is what was said.
_ENDS_IN_THANKS = re.compile(r"\b(thanks|thank you|thanks a lot|(thanks|thank you) so much|so much|cheers|"
                             r"appreciate (it|that)|much appreciated)$")


# A question said inside a longer turn, not at its start: "okay and say we blow past the calls, what happens then"
_QUESTION_CLAUSE = re.compile(r"\b(what happens|what if|do you|does it|does that|can i|can you|can it|could i|is there|"
                              r"are there|will it|would it|do i|how (do|does|can|much|many|long|would|often))\b")


def asks_a_question(text: str) -> bool:
    """A turn worded as a question: at its start ("is something down on your end right now") or inside it."""
    words = len(text.split())
    return (words >= 4 and ASKS_FIRST.match(text) is not None) or (words >= 6 and _QUESTION_CLAUSE.search(text)
                                                                   is not None)


def ends_in_thanks(text: str) -> bool:
    return _ENDS_IN_THANKS.search(text) is not None and not ASKS_FIRST.match(text)


def takes_in(text: str) -> bool:
    """An acknowledgement that is no yes to an offer: "good to know", "got it", "ok i'll try that"."""
    words = re.findall(r"[a-z']+", text.lower())
    return acknowledges(text) and (bool(_TAKING_IN & set(words)) or _WILL_TRY.match(" ".join(words)) is not None)


def says_it_did_not_help(text: str) -> bool:
    """"I already tried that", "it didn't work": the last answer did not solve it."""
    return _DID_NOT_HELP.search(text) is not None


_NOT_COME = re.compile(r"\b(e-?mails?|links?|codes?|messages?|texts?)\b.*\b(never|didn'?t|did not|haven'?t|have not|hasn'?t|"
                       r"has not)\b|\b(never|didn'?t|did not|haven'?t|have not) (get|got|gotten|receive[d]?) (the|an|any|a|"
                       r"my) (e-?mail|link|code|message|text)")


def says_it_never_came(text: str) -> bool:
    """"I did that but the email never showed up": what the answer said would come did not."""
    return says_it_did_not_help(text) and _NOT_COME.search(text) is not None


# The answer worked: "ok clearing the cache fixed it actually", "oh wait, there it is, it was in junk"
_RESOLVED = re.compile(r"\b((that|this|it|which) (fixed|solved|sorted|did) (it|that|the trick)|(fixed|solved|sorted) it|"
                       r"found it|there it is|(it'?s|its|it is) working( now)?|works now|that worked|it worked)\b")


def says_it_is_solved(text: str) -> bool:
    return _RESOLVED.search(text) is not None and not says_it_did_not_help(text)


def checks_presence(text: str) -> bool:
    """"Hello? Are you there?": the caller is checking the line, not asking a question."""
    return _has(text, _PRESENCE)


def asks_to_repeat(text: str) -> bool:
    """"Sorry, what was that?": a short turn asking to hear the last reply again."""
    return len(text.split()) <= 10 and _has(text, *_REPEAT)


_ABOUT_TOPIC = re.compile(
    r"^((hi|hello|hey|yes|yeah|so|um|uh)( there)? )*((i'?m|i am) calling|i'?m ringing|i have (a )?(quick )?questions?|"
    r"i'?ve got (a )?(quick )?questions?|(it'?s|this is) (about|regarding)|i need help|i need some help|"
    r"i (wanted|want|would like|'?d like) to (ask|know|hear)( something)?)"
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
