"""What a caller's turn means in the state the call is in: nearest labelled examples in embedding space.

The embed function is injected (the process's one MiniLM, as the knowledge base uses), so this module loads
no model and no framework. Regexes stay for slots (brain/understanding.py) and a few overrides below.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from voiceagent.brain.booked import asks_about_a_booking
from voiceagent.brain.slots import asks_next_opening, extract_name, has_date, has_time
from voiceagent.brain.understanding import ASKS_FIRST, CLOSING_WORDS, asks_a_question, detect_intent, normalize

Embed = Callable[[list[str]], Sequence[Sequence[float]]]

STATES = ("idle", "when", "name", "confirm")
# Intents a caller may voice whatever the agent just asked: their idle examples count in every state.
SHARED = ("escalate", "goodbye", "check", "faq")
# A linear read-out of the sentence embedding per state (logistic regression: deterministic, milliseconds to
# fit). An answer with a probability under MIN_PROBABILITY, or less than MARGIN ahead of the runner-up, is
# "unsure". Both were set on the training examples (leave-one-out), never on the held-out turns.
MIN_PROBABILITY = 0.4
MARGIN = 0.15
STRENGTH = 30.0  # inverse regularisation (sklearn's C), picked by leave-one-out on the training examples
# Intents the agent acts on (a lookup read aloud, a booking, a transfer, a hang-up) need a turn that resembles one
# of their examples: the cosine similarity to the nearest is at least MIN_SUPPORT. A mumble Whisper heard as
# "can you see about the first time?" wins "check" on probability alone (0.40) with support 0.34; the lowest
# support of a training example among the others of its intent (leave-one-out) is 0.47.
ACTIONS = ("check", "book", "cancel_booking", "escalate", "goodbye", "yes", "no")
MIN_SUPPORT = 0.45


@dataclass(frozen=True)
class Guess:
    """The classifier's answer: the intent, its probability, and the runner-up."""

    intent: str
    score: float
    runner_up: str
    margin: float
    support: float = 1.0  # cosine similarity to the nearest training example of `intent`

    @property
    def unsupported(self) -> bool:
        """An intent the dialog would act on, for a turn unlike any of its examples."""
        return self.intent in ACTIONS and self.support < MIN_SUPPORT

    @property
    def unsure(self) -> bool:
        return self.score < MIN_PROBABILITY or self.margin < MARGIN or self.unsupported


def load_corpus(part: str) -> dict[str, dict[str, list[str]]]:
    """`train` or `heldout`: {state: {intent: [caller turns]}} from the package data."""
    text = resources.files("voiceagent.brain").joinpath(f"data/intents_{part}.json").read_text()
    return {state: intents for state, intents in json.loads(text).items() if not state.startswith("_")}


def corpus_rows(corpus: dict[str, dict[str, list[str]]]) -> list[tuple[str, str, str]]:
    """(state, intent, text) for every turn of a corpus."""
    return [(state, intent, text) for state, intents in corpus.items() for intent, texts in intents.items()
            for text in texts]


def pool_rows(rows: list[tuple[str, str, str]], state: str) -> list[int]:
    """Indexes of the examples a state learns from: its own first, then the shared intents' idle examples."""
    own = [i for i, (s, _, _) in enumerate(rows) if s == state]
    shared = [i for i, (s, intent, _) in enumerate(rows) if state != "idle" and s == "idle" and intent in SHARED]
    return own + shared


def fit(vectors: np.ndarray, labels: list[str]):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=STRENGTH, max_iter=2000, class_weight="balanced").fit(vectors, labels)


def rank(model, vector: np.ndarray, examples: np.ndarray, labels: Sequence[str]) -> Guess:
    """The model's answer for `vector`, with its support among `examples` (the rows it was fitted on)."""
    probabilities = model.predict_proba(vector.reshape(1, -1))[0]
    order = sorted(range(len(probabilities)), key=lambda i: (-probabilities[i], model.classes_[i]))
    best, second = order[0], order[1]
    intent = str(model.classes_[best])
    return Guess(intent, float(probabilities[best]), str(model.classes_[second]),
                 float(probabilities[best] - probabilities[second]), support(vector, examples, labels, intent))


def support(vector: np.ndarray, examples: np.ndarray, labels: Sequence[str], intent: str) -> float:
    """Cosine similarity of `vector` to the nearest of `examples` labelled `intent` (0 when it has none)."""
    own = examples[[i for i, label in enumerate(labels) if label == intent]]
    if not len(own):
        return 0.0
    norms = np.linalg.norm(own, axis=1) * (np.linalg.norm(vector) or 1.0)
    return float(np.max(own @ vector / np.where(norms == 0, 1.0, norms)))


class IntentClassifier:
    """Intent of a caller turn from its sentence embedding, one small model per dialog state."""

    def __init__(self, embed: Embed, examples: dict[str, dict[str, list[str]]] | None = None):
        self._embed = embed
        self._examples = examples if examples is not None else load_corpus("train")
        self._models: dict | None = None
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def _build(self) -> dict:
        """Embed every example once (about 250 short texts) and fit each state's model, on first use."""
        with self._lock:
            if self._models is None:
                rows = corpus_rows(self._examples)
                vectors = self.embed([text for _, _, text in rows])
                models = {}
                for state in STATES:
                    keep = pool_rows(rows, state)
                    labels = [rows[i][1] for i in keep]
                    models[state] = (fit(vectors[keep], labels), vectors[keep], labels)
                self._vectors, self._models = vectors, models
            return self._models

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._embed([normalize(text) or text for text in texts]), dtype=np.float32)

    def warm_up(self) -> None:
        self._build()

    def guess(self, text: str, state: str = "idle") -> Guess:
        """The intent of one caller turn while the agent waits for `state`'s answer."""
        model, examples, labels = self._build()[state if state in STATES else "idle"]
        return rank(model, self.embed([text])[0], examples, labels)


_NO_FIRST = re.compile(r"^((um|uh|oh|wait|well|sorry|actually) )*(no|nope|nah|not right|wrong|that'?s (wrong|not))\b")
_YES_FIRST = re.compile(r"^((um|uh|oh|well) )*(yes|yeah|yep|yup|correct|right|that'?s right|that is (right|correct)|"
                        r"sure|perfect|great|sounds good|absolutely|okay|ok|alright|all right|go ahead)\b")
_CHANGES = re.compile(r"\b(but|instead|actually|change|move|make it|rather|not|wrong|earlier|later)\b")
_WHEN_SIDE_INTENTS = ("faq", "book", "yes", "greeting", "thanks")


# Asking to be called back is asking for a person, whatever the call is about
_CALLBACK = re.compile(r"\b(call me back|give me a call( back)?|(have|get) (someone|somebody|a specialist|a person|"
                       r"sales|your team) (to )?(call|contact|ring) me|can (someone|somebody|a specialist) (call|ring) "
                       r"me)\b")
# "have someone do it then", "can you have someone look into that", "just have someone sort it out": a person
_HAVE_SOMEONE = re.compile(r"\b(have|get|send) (someone|somebody|a specialist|a person|a human|your team|one of your "
                           r"(people|guys|team)) (to )?(do|look|check|sort|fix|handle|deal|take care|help)\b")
_BOOKS = re.compile(r"\b(book|schedule|appointment|set up a (call|meeting|demo))\b")
# ...but not "move my appointment to Tuesday" (a change, for a person: the classifier reads those)
_CHANGES_ONE = re.compile(r"\b(move|moving|reschedul\w*|push|change|cancel\w*|shift|scrap|my (appointment|booking))\b")
# "what time is my thing tomorrow", "when's my slot": the caller's own booking, whatever they call it
_ASKS_OWN_TIME = re.compile(r"\b(what time|when)( is|'?s)? my (\w+ )?(thing|slot|time|appointment|booking|meeting|"
                            r"demo|consultation|call|session)\b|\bwhat time am i (coming|in|booked|seeing)\b|"
                            r"\bwhat (do|did) i have (book(ed)?|scheduled|set up|on the books)\b|\bwhat have i (got )?"
                            r"(book(ed)?|scheduled)\b")
_SUBSCRIPTION = re.compile(r"\b(plan|subscription|account|membership|service|trial|billing)\b")
_APPOINTMENT = re.compile(r"\b(appointment|booking|meeting|demo|consultation|call|session|slot)\b")
# "the whole subscription, not an appointment": an appointment named only to say it is not the one meant
# "how would I cancel if I wanted to": asking how it is done (the FAQ's), not asking for it to be done
_ASKS_HOW_TO_CANCEL = re.compile(r"\bhow (do|would|can|could|does) (i|we|one|you) (go about )?(cancel|cancelling|stop)")
# A goodbye that opens a turn which goes on to ask something was not one: "bye, I have a question about your
# plans" (a recogniser's "hi") hung up on the caller.
_OPENS_WITH_BYE = re.compile(r"^((ok|okay|oh|hey|hi|hello|so|well) )*(good ?bye|bye)( bye)? (?=\w)")
_GOES_ON = re.compile(r"^(i (have|had|got|just have) (a|one|another|some|a quick) (question|problem|issue)|"
                      r"i (need|want|would like|'d like|was wondering|wanted|'m calling|am calling|'m trying|'m having)|"
                      r"(a )?quick question)\b")
_NOT_AN_APPOINTMENT = re.compile(r"\bnot (an?|the|my|any) (appointment|booking|meeting|demo|consultation|call|session)\b")


def understand(text: str, state: str, classifier: IntentClassifier) -> tuple[str, Guess | None]:
    """The intent the dialog acts on: the classifier's guess, with a few overrides where words are certain.

    Returns the intent ("unsure" when the classifier could not tell) and the guess (None when an override
    decided alone)."""
    text = normalize(text)
    if state == "confirm":
        # At a read-back the first word carries it: "no, Wednesday" corrects, "yes ... Tuesday" confirms.
        if _NO_FIRST.match(text):
            return "no", None
        if _YES_FIRST.match(text) and not _CHANGES.search(text):
            return "yes", None
    if state == "when" and not (has_date(text) or has_time(text) or CLOSING_WORDS.search(text)):
        # "What time works? I have 9, 10 or 11 free." - "no", "yes please": the first word carries a bare answer
        if _NO_FIRST.match(text) and len(text.split()) <= 4:
            return "no", None
        if _YES_FIRST.match(text) and not _CHANGES.search(text) and len(text.split()) <= 4:
            return "yes", None
    guess = classifier.guess(text, state)
    intent = guess.intent
    if intent == "cancel_booking" and (_SUBSCRIPTION.search(text) or _ASKS_HOW_TO_CANCEL.search(text)) and \
            not _APPOINTMENT.search(_NOT_AN_APPOINTMENT.sub(" ", text)):
        # "how do I cancel my Pro plan?", "how would i cancel if i wanted to": the subscription, not an appointment
        return "faq", guess
    if state == "when" and (has_date(text) or has_time(text)) and intent in _WHEN_SIDE_INTENTS:
        return "inform", guess  # a day or hour offered while the agent asks when is the answer
    if state == "name" and guess.unsure and extract_name(text, expecting_name=True):
        return "inform", guess
    if state == "idle" and (_ASKS_OWN_TIME.search(text) or asks_about_a_booking(text)):
        return "check", guess  # "what time is my thing tomorrow", "I called earlier about a demo, did that go through?"
    if state == "idle" and asks_next_opening(text):
        return "book", guess  # "whens your next opening" asks for a free time, not for the caller's booking
    if state == "idle" and _HAVE_SOMEONE.search(text):
        return "escalate", guess  # "my assistant said she booked it, can you have someone look into that"
    if state == "idle" and (has_date(text) or has_time(text)) and _BOOKS.search(text) and not _CHANGES_ONE.search(text):
        return "book", guess  # "book Tuesday at two, name's Omar": the words and the time are certain
    if state == "idle" and intent == "escalate" and _BOOKS.search(text) and not _CHANGES_ONE.search(text):
        return "book", guess  # "set up a call with one of your sales people": a meeting with a person is booked
    if state == "idle" and _CALLBACK.search(text) and not (has_date(text) or has_time(text)):
        return "escalate", guess  # "can someone call me back about the enterprise plan" (read as its question);
        # with a day or time it is a call to book ("can someone call me tomorrow morning")
    if intent == "goodbye" and (opening := _OPENS_WITH_BYE.match(text)):
        rest = text[opening.end():]
        if (asks_a_question(rest) or _GOES_ON.match(rest)) and not CLOSING_WORDS.search(rest):
            return understand(rest, state, classifier)
    if intent == "goodbye" and ASKS_FIRST.match(text) and not CLOSING_WORDS.search(text):
        # "ok and how much is that one" read as a goodbye hung up on a caller asking a question
        regex = regex_intent(text, state)
        return (regex if regex != "goodbye" else "unsure"), guess
    if guess.unsupported or guess.unsure:
        regex = regex_intent(text, state)
        if regex == "escalate":
            return "escalate", guess  # "no I don't want the FAQ, just get me someone": the words ask for a person
        if regex == "check" and state == "idle":
            return "check", guess  # "when's my meeting with you guys again": the words ask for the booking
        if guess.unsupported:
            return "unsure", guess  # not a tie the runner-up could win: the turn resembles nothing ("I was wondering")
        # The old patterns break a near tie when they name one of the two close intents.
        return (regex if regex in (guess.intent, guess.runner_up) else "unsure"), guess
    return intent, guess


def regex_intent(text: str, state: str) -> str:
    """The old regex layer's answer in the corpus's labels: "book" in a booking fills the slots, as "inform" does."""
    name = detect_intent(normalize(text)).name
    return "inform" if state != "idle" and name == "book" else name
