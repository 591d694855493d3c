"""The intent classifier on the runtime's MiniLM: corpus hygiene, held-out accuracy, and dialog-state reading."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from voiceagent.brain.intents import STATES, corpus_rows, load_corpus, understand
from voiceagent.brain.understanding import normalize
from voiceagent.evals.intents import evaluate_heldout

NOW = datetime(2026, 2, 19, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def test_the_corpus_is_large_split_and_never_shares_a_turn():
    train, heldout = corpus_rows(load_corpus("train")), corpus_rows(load_corpus("heldout"))
    assert len(train) + len(heldout) >= 400 and len(heldout) >= 150
    assert not {normalize(text) for _, _, text in train} & {normalize(text) for _, _, text in heldout}
    assert {state for state, _, _ in heldout} == set(STATES) == {state for state, _, _ in train}


def test_the_classifier_reuses_the_knowledge_base_embedder(runtime):
    assert runtime.intents._embed.__self__ is runtime.knowledge.embedder


def test_held_out_accuracy_beats_the_regex_layer_and_reaches_95_percent(runtime):
    dialog, bare, regex = evaluate_heldout(runtime.intents)[:3]
    assert dialog.total == regex.total >= 150
    assert dialog.accuracy >= 0.95 and dialog.accuracy > regex.accuracy and bare.accuracy > regex.accuracy


@pytest.mark.parametrize(("said", "state", "intent"), [
    ("That is correct", "confirm", "yes"),
    ("yes that's correct tuesday at ten thirty for maria lopez", "confirm", "yes"),
    ("sounds good", "confirm", "yes"),
    ("no wednesday", "confirm", "no"),
    ("maria lopez", "name", "inform"),
    ("um how about thursday at three", "when", "inform"),
    ("can i talk to a person", "confirm", "escalate"),
])
def test_the_dialog_state_decides_what_a_turn_means(runtime, said, state, intent):
    assert understand(said, state, runtime.intents)[0] == intent


def test_the_same_turn_gets_the_same_answer_every_time(runtime):
    guesses = {runtime.intents.guess("um do you guys do like demos or something", "idle") for _ in range(3)}
    assert len(guesses) == 1


@pytest.mark.parametrize("said", ["Mhm.", "Mm-hmm.", "Uh-huh, go ahead.", "uh huh", "Okay.", "Alright, go ahead."])
def test_spoken_agreement_at_a_read_back_is_a_yes(runtime, said):
    # "Mm-hmm" lost "mm" and "hmm" as fillers ("mm-"), and a caller's "mhm" got the clarifying question.
    assert understand(said, "confirm", runtime.intents)[0] == "yes"


def test_hesitation_is_still_a_filler():
    assert normalize("Hmm, uh, let me think") == "let me think" and normalize("Mm-hmm.") == "yes"
