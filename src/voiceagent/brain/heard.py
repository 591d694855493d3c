"""How a phone line's speech recogniser writes what callers say, and the words they meant: contractions without
the apostrophe, days and times in other words, words a recogniser hinted with the business's name writes for
others ("thanks, Byte"), and the business's name misheard. `understanding.normalize` applies them."""

from __future__ import annotations

import re

# Contractions a recogniser writes without the apostrophe ("thats everything", "whens my appointment", "dont"); not
# the ones that are words of their own as well ("its", "ill", "id", "were", "well", "lets": left as they are).
CONTRACTED = {
    **{f"{word}s": f"{word}'s" for word in ("that", "what", "when", "where", "who", "how", "there", "here")},
    "im": "i'm", "ive": "i've",
    **{f"{who}{end}": f"{who}'{end}" for who in ("you", "we", "they") for end in ("ve", "re", "ll")
       if f"{who}{end}" not in ("were", "well")},
    **{f"{verb}nt": f"{verb}n't" for verb in ("do", "does", "did", "is", "are", "was", "were", "has", "have", "had",
                                               "could", "would", "should", "wo", "ca")},
}
NO_APOSTROPHE = re.compile(rf"\b({'|'.join(CONTRACTED)})\b")
NAMES_FIRST = re.compile(r"^(my )?names\b(?= [a-z])")  # "names jo kim" said first: "name's jo kim"


_HOURS = r"(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|1[0-2]|[1-9])"
_HOUR_DIGITS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
                "nine": "9", "ten": "10", "eleven": "11", "twelve": "12"}
# Days and times as callers say them and a recogniser writes them, in the words the booking reads: a weekday heard
# in two words ("wendy's day"), "half two" (2:30), "noonish", "after lunch", "end of the day"
SAID_AS = (
    (re.compile(r"\b(wendy'?s|wednes|wens|when'?s) day\b"), "wednesday"),
    (re.compile(r"\b(tues|tue'?s) day\b"), "tuesday"),
    (re.compile(r"\b(thurs|thur'?s|thirst) day\b"), "thursday"),
    (re.compile(r"\b(mon|mun) day\b"), "monday"),
    (re.compile(r"\bfri day\b|\bfry day\b"), "friday"),
    # "mondays in at 9" (a day with a time after it; "are you open on sundays" asks about every sunday)
    (re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s\b(?=( \w+){0,2} (at|\d))"), r"\1"),
    (re.compile(rf"\bhalf {_HOURS}\b(?! (hours?|an?|of|minutes?)\b)"),
     lambda found: f"{_HOUR_DIGITS.get(found.group(1), found.group(1))}:30"),
    # "o'clock" and "three" as a recogniser writes them on a phone line: "two clap works", "let's say free of luck",
    # "three a clock"; "10-30" for 10:30
    (re.compile(r"\bfree(?= (o'?clock|of luck|o'?clap|of clock|a clock|thirty|fifteen|forty[ -]five|pm|p m|am|a m)\b)"),
     "three"),
    (re.compile(rf"\b{_HOURS} (clap|clock|o clock|a clock|of clock|o'?clap|of luck|a lock|of o'?clock)\b"),
     r"\1 o'clock"),
    # "to the clock works", "to look works": the whole answer to "what time works?"
    (re.compile(r"^\s*(to|two|too)( the)? (clock|look|lock|clap|o'?clock)(?=\s*$|\s+(works?|is (fine|good|great|perfect)|"
                r"please|then|sounds good|would (work|be)|pm|p m)\b)"), "two o'clock"),
    (re.compile(r"\b(1[0-2]|0?[1-9])-([0-5]\d)\b(?! ?(minutes?|mins?|seconds?|days?|dollars?|percent|calls?))"),
     r"\1:\2"),
    (re.compile(r"\b(noon ?ish|around noon|lunch ?time|midday)\b"), "noon"),
    (re.compile(r"\b(after lunch|early afternoon)\b"), "afternoon"),
    # Words a recogniser hinted with the business's name writes for others: "thanks, Byte" (bye), "your copy" and
    # "rest copy" (API), "dry it out" (try), "being built for the wrong plan" (billed)
    # A turn that opens with "Byte" and goes on was a "hi" ("Byte, I have a question about your plans" hung up)
    (re.compile(r"^\s*byte\s+(?!(bye|byte|for now|then|now)\b|(ai|a i|eye|aye)\b)(?=\w)"), "hi "),
    (re.compile(r"\bbyte\b(?! ?(ai|a i|eye|aye)\b)|\bbite$"), "bye"),
    (re.compile(r"\b(rest|your|the) copy\b(?! of)"), r"\1 api"),
    (re.compile(r"\bdry (it|this|them|that) out\b"), r"try \1 out"),
    (re.compile(r"\bblack (integration|app|channel|workspace|bot|notifications?)\b"), r"slack \1"),
    (re.compile(r"\bblack information\b"), "slack integration"),
    (re.compile(r"^\s*us(?=\s+please\b)"), "yes"),  # "US, please" on a noisy line
    # "book" heard as "work", "look" or "cook": "can i work a call with somebody", "yes please look it"
    (re.compile(r"\b(work|look|cook|hook) (a|an|me|us) (call|demo|appointment|meeting|consultation|session)\b"),
     r"book \2 \3"),
    (re.compile(r"^((yes|yeah|yep|ok|okay|please|go ahead and) )*(look|work) it( please)?$"),
     lambda found: found.group(0).replace(f"{found.group(3)} it", "book it")),
    (re.compile(r"\b(been|being|got|get|was|were) built (for|twice|again|two times|double)\b"), r"\1 billed \2"),
    (re.compile(r"\b(end of (the )?day|late afternoon|last thing|as late as (possible|you can))\b"),
     "afternoon latest"),
)


# How a speech recogniser writes a business's name when it mishears it, per business name (lower case): the
# dialog reads them as the name ("what does bite eye do", "is this by AI?").
HEARD_AS = {
    "byteai": re.compile(r"\b(by|bite|byte|bye|buy)[ -]?(ai|a i|eye|aye)\b|\bbyte ?ai\b"),
}


def with_business_name(text: str, business: str) -> str:
    """`text` (normalized) with the business's misheard spellings written as its name."""
    heard = HEARD_AS.get(business.lower())
    return heard.sub(business.lower(), text) if heard else text
