"""Whether a transcript reads as finished: the STT's punctuation, and the word it ends on."""

from __future__ import annotations

import re

# Words a finished sentence hardly ever ends on: an STT that punctuates every pause ("And what about?") has
# heard a fragment when its text ends on one of these, whatever the punctuation says. The list only holds back
# an early decision (the turn model then decides), so it leans towards calling a sentence unfinished.
DANGLING_WORDS = frozenset("""
a an the and or but because if than to of for with about at in on from by into onto as per
my your our their its um uh er like whether while until although
""".split())
_SENTENCE_END = re.compile(r"(?<!\.)[.?!]$")  # a full stop, question or exclamation mark, not an ellipsis


def ends_on_a_dangling_word(text: str) -> bool:
    """Whether the last word is one a finished sentence hardly ends on (true of a text with no words)."""
    words = re.findall(r"[a-z']+", text.lower())
    return not words or words[-1] in DANGLING_WORDS


def trails_off(text: str) -> bool:
    """Whether a transcript stops mid-thought: on a dangling word, an ellipsis or a cut-off word ("a f-")."""
    text = text.strip()
    return ends_on_a_dangling_word(text) or text.endswith(("...", "…", "-", "—"))


def ends_a_sentence(text: str) -> bool:
    """Whether a transcript reads as a finished sentence: punctuated as one, and not ending on a dangling word."""
    text = text.strip()
    return bool(_SENTENCE_END.search(text)) and not ends_on_a_dangling_word(text)


# How a whole question or request opens. Whisper leaves some finished ones bare ("how much is the pro plan"):
# one that opens like this, runs a few words and does not trail off reads as finished as a punctuated one.
_OPENS_A_QUESTION_OR_REQUEST = re.compile(
    r"^((um|uh|so|and|okay|ok|oh|well|hi|hello|hey|yeah|yes|no|sorry|actually|also)\b[ ,]*)*"
    r"(what|what's|how|how's|when|when's|where|which|who|why|is|are|am|do|does|did|can|could|would|will|should|"
    r"may|have|has|i'd like|i would like|i want|i wanna|i need|i'm looking for|please|tell me|book|check|cancel|"
    r"transfer|connect|put me|let me)\b")
MIN_BARE_WORDS = 3
# ...and how a caller states what they called about: Whisper wrote the slt voice's "Hi, I have a question about
# your plans." bare, and the turn waited out the turn model's 1.2 s limit (the first turn of every call, 1.86 s).
# A statement runs a word longer before it counts ("i have two" may go on).
_OPENS_A_STATEMENT = re.compile(
    r"^((um|uh|so|and|okay|ok|oh|well|hi|hello|hey|yeah|yes|no|sorry|actually|also)\b[ ,]*)*"
    r"(i have|i've got|i got|i'm calling|i am calling|i'm having|i am having|i'm trying|i am trying|we need|"
    r"we want|we'd like|we would like|i'd love|i would love)\b")
MIN_BARE_STATEMENT_WORDS = 4
# How a caller signs off: a bare transcript ending like this is finished however it opens (a slow, noisy caller's
# "Okay, thanks. Goodbye." came back as "Okay, fans, goodbye" and waited out the turn model's 1.2 s limit).
# "thanks" / "thank you" alone are left out: callers go on after them ("thank you, and what about...").
_ENDS_A_SIGN_OFF = re.compile(r"\b(good ?bye|bye( bye)?|that's all|that is all|that's it|"
                              r"have a (good|nice|great) (day|one|evening|night))$")


def reads_as_finished(text: str) -> bool:
    """A finished sentence, punctuated or not: a bare question, request or statement of why the caller calls ("hi
    i have a question about your plans") of a few words that does not trail off counts as one, as does a bare
    sign-off ("okay fans goodbye"); a bare fragment ("I was wondering") or a comma at the end does not."""
    text = text.strip()
    if ends_a_sentence(text):
        return True
    if _SENTENCE_END.search(text) or trails_off(text) or text.endswith((",", ";", ":")):
        return False
    words = " ".join(re.findall(r"[a-z0-9']+", text.lower()))
    if _ENDS_A_SIGN_OFF.search(words):
        return True
    count = len(words.split())
    return (count >= MIN_BARE_WORDS and bool(_OPENS_A_QUESTION_OR_REQUEST.match(words))) or (
        count >= MIN_BARE_STATEMENT_WORDS and bool(_OPENS_A_STATEMENT.match(words)))
