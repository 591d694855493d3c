"""`voiceagent eval intents`: intent accuracy on the held-out caller turns, new classifier vs the old regexes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from voiceagent.brain.intents import (
    STATES,
    IntentClassifier,
    corpus_rows,
    fit,
    load_corpus,
    pool_rows,
    rank,
    regex_intent,
    understand,
)
from voiceagent.brain.understanding import normalize


@dataclass
class IntentScore:
    """Accuracy of one way of reading intents over a set of (state, intent, text) turns."""

    name: str
    total: int = 0
    correct: int = 0
    unsure: int = 0  # turns that got a clarifying question (counted as wrong)
    per_state: dict = field(default_factory=dict)  # state -> [correct, total]
    confusions: Counter = field(default_factory=Counter)  # (state, expected, got) -> count
    errors: list = field(default_factory=list)  # (state, expected, got, text)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def add(self, state: str, expected: str, got: str, text: str) -> None:
        self.total += 1
        counts = self.per_state.setdefault(state, [0, 0])
        counts[1] += 1
        if got == expected:
            self.correct += 1
            counts[0] += 1
            return
        self.unsure += got == "unsure"
        self.confusions[(state, expected, got)] += 1
        self.errors.append((state, expected, got, text))


def score(name: str, rows: list[tuple[str, str, str]], read: Callable[[str, str], str]) -> IntentScore:
    result = IntentScore(name)
    for state, expected, text in rows:
        result.add(state, expected, read(text, state), text)
    return result


def evaluate_heldout(classifier: IntentClassifier) -> list[IntentScore]:
    """The dialog's reading (classifier + overrides), the bare classifier, and the old regexes, on held-out turns."""
    rows = corpus_rows(load_corpus("heldout"))
    return [
        score("classifier + overrides (what the dialog uses)", rows,
              lambda text, state: understand(text, state, classifier)[0]),
        score("linear read-out alone", rows, lambda text, state: classifier.guess(text, state).intent),
        score("old regex layer", rows, regex_intent),
    ]


class _FixedGuess:
    """A classifier stand-in that answers one prepared guess (leave-one-out runs `understand` on it)."""

    def __init__(self, guess):
        self._guess = guess

    def guess(self, text: str, state: str):
        return self._guess


def leave_one_out(classifier: IntentClassifier) -> list[IntentScore]:
    """Each training example read by a model fitted on the others, bare and with the dialog's overrides (how
    the thresholds were set: no held-out turn involved)."""
    bare = IntentScore("training examples, leave-one-out, linear read-out alone")
    dialog = IntentScore("training examples, leave-one-out, classifier + overrides")
    rows = corpus_rows(load_corpus("train"))
    vectors = classifier.embed([text for _, _, text in rows])
    for state in STATES:
        pool = pool_rows(rows, state)
        for at in [i for i in pool if rows[i][0] == state]:
            keep = [i for i in pool if i != at]
            labels = [rows[i][1] for i in keep]
            guess = rank(fit(vectors[keep], labels), vectors[at], vectors[keep], labels)
            _, expected, text = rows[at]
            bare.add(state, expected, guess.intent, normalize(text))
            dialog.add(state, expected, understand(text, state, _FixedGuess(guess))[0], normalize(text))
    return [dialog, bare]
