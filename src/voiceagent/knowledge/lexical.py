"""Which of a caller's informative words an FAQ entry contains, weighted by how rare each word is in the FAQ:
a tie-breaker for the sentence embedding's ranking ("how many requests per minute do we get on Pro?" is nearest
the Pro plan's price by meaning, but only the rate-limit entry says "requests per minute")."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from voiceagent.knowledge.faq import FaqEntry

_COMMON = frozenset("""
a an the and or but if of to in on at for with by from is are was were be been am do does did done have has had i me
my we our you your it its this that these those what which who whom how when where why can could would should will
shall may might must not no yes about into over than then there here just like so too very also get got one any some
all please thanks thank hi hello um uh okay ok yeah guys much many really want need know tell say
""".split())
_SUFFIXES = ("ing", "es", "ed", "s")


def words_of(text: str) -> set[str]:
    """The informative words of a text, lower case, with common English endings cut ("emails" -> "email")."""
    found = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in _COMMON or len(word) < 3:
            continue
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[:-len(suffix)]
                break
        if word.endswith("e") and len(word) > 4:
            word = word[:-1]  # "upgrade" meets "upgrading" and "upgraded" ("upgrad")
        found.add(word)
    return found


class LexicalIndex:
    """Per entry, its informative words; per word, its rarity (inverse document frequency) over the FAQ."""

    def __init__(self, entries: Iterable[FaqEntry]):
        self._words = {entry.id: words_of(" ".join((*entry.questions, entry.answer))) for entry in entries}
        counts: dict[str, int] = {}
        for words in self._words.values():
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        total = len(self._words)
        self._rarity = {word: math.log((total + 1) / (count + 0.5)) for word, count in counts.items()}
        self._unseen = math.log((total + 1) / 0.5)

    def overlap(self, query_words: set[str], entry_id: str) -> float:
        """The share (0..1) of the query's informative words, by rarity, that the entry contains."""
        weights = {word: self._rarity.get(word, self._unseen) for word in query_words}
        total = sum(weights.values())
        if not total:
            return 0.0
        return sum(weight for word, weight in weights.items() if word in self._words.get(entry_id, ())) / total

    def unseen(self, words: set[str]) -> set[str]:
        """The words no entry contains."""
        return {word for word in words if word not in self._rarity}

    def words(self, entry_id: str) -> set[str]:
        """The informative words of one entry."""
        return self._words.get(entry_id, set())
