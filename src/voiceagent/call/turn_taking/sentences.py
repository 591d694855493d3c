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
