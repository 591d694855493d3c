"""The names an FAQ mentions (products, integrations, laws: HubSpot, Zendesk, GDPR) that the sentence embedding
does not know, and the entries that mention them, so that a caller who names one finds those entries."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from voiceagent.knowledge.faq import FaqEntry

# A name mentioned in more entries than this says little about which one answers (the brand, "API").
MAX_ENTRIES_PER_NAME = 3
# Capitalised like names but said in every other call ("on Friday", "in March"): never a hint of the topic.
_CALENDAR = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
             "march", "april", "june", "july", "august", "september", "october", "november", "december"}
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*|[^\sA-Za-z]")
_SENTENCE_START = set(".!?:;\"(")


def _is_name(word: str, sentence_start: bool, lower_words: set[str], knows_word: Callable[[str], bool] | None) -> bool:
    if len(word) < 3 or not word[0].isupper():
        return False
    if knows_word is not None and knows_word(word.lower()):
        return False  # the embedding has the word itself (Slack, Android, Chrome): it finds the entries alone
    if word.isupper() or any(c.isupper() for c in word[1:]):
        return True  # an acronym (GDPR) or a name with inner capitals (HubSpot, PayPal)
    # A capitalised word inside a sentence that the FAQ never writes in lower case (Zendesk, not "Settings");
    # without a vocabulary to ask, only the two certain kinds above.
    return (knows_word is not None and not sentence_start and len(word) >= 4 and word.lower() not in lower_words)


def name_index(entries: Iterable[FaqEntry], knows_word: Callable[[str], bool] | None = None
               ) -> dict[str, frozenset[str]]:
    """Lower-case name -> ids of the entries that mention it, for names in at most MAX_ENTRIES_PER_NAME entries.

    `knows_word` tells whether the embedding model has a (lower-case) word in its vocabulary as one piece."""
    entries = list(entries)
    texts = {entry.id: f"{entry.question} {entry.answer}" for entry in entries}
    lower_words = {word for text in texts.values() for word in re.findall(r"\b[a-z][a-z0-9]*\b", text)}
    mentions: dict[str, set[str]] = {}
    for entry_id, text in texts.items():
        sentence_start = True
        run: list[str] = []  # capitalised words in a row inside a sentence: "Microsoft Teams", "Google Workspace"
        for token in _TOKEN.findall(text) + ["."]:
            if token[0].isalpha() and token[0].isupper() and (run or not sentence_start):
                run.append(token)
            else:
                if len(run) >= 2:
                    # the embedding knows each word ("microsoft", "teams": the team-seats entry came first), not
                    # the product they name together
                    mentions.setdefault(" ".join(run).lower(), set()).add(entry_id)
                run = []
            if token[0].isalpha():
                if _is_name(token, sentence_start, lower_words, knows_word):
                    mentions.setdefault(token.lower(), set()).add(entry_id)
                sentence_start = False
            elif token in _SENTENCE_START:
                sentence_start = True
    return {name: frozenset(ids) for name, ids in mentions.items()
            if len(ids) <= MAX_ENTRIES_PER_NAME and name not in _CALENDAR}


def names_in(query: str, index: dict[str, frozenset[str]]) -> set[str]:
    """The indexed names a lower-case, cleaned query mentions, also split in two as an STT may write them
    ("hub spot", "pay pal"), and the names of two words ("microsoft teams")."""
    words = query.split()
    candidates = set(words) | {a + b for a, b in zip(words, words[1:])} | {f"{a} {b}" for a, b in zip(words, words[1:])}
    return {word for word in candidates if word in index}
