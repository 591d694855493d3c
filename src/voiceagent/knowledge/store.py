"""The FAQ knowledge base on ChromaDB: idempotent ingestion, search, and "no answer" below a threshold."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import chromadb
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError
from loguru import logger

from voiceagent.knowledge.faq import FaqEntry, KnowledgeError
from voiceagent.knowledge.lexical import LexicalIndex, words_of
from voiceagent.knowledge.names import name_index, names_in

COLLECTION = "byteai_faq"
RESULT_TTL_SECS = 300.0  # the plan: cache frequent retrieval results for 5 minutes
# Added to the similarity of the entries that mention a name the caller said (HubSpot, Zendesk, GDPR): the
# sentence embedding barely knows such names ("does it work with hubspot" was closest to the Slack entry,
# 0.21, and the integrations list that names HubSpot came third at 0.19: "I'm not sure about that one").
NAME_BOOST = 0.2
# ...and the bar to answer from an entry the question names that way is lower: "how do i connect my zendesk" is
# about the one entry that says Zendesk (0.30 with the boost), though its other words are near nothing
NAMED_BAR_DROP = 0.1
# How much the share of the caller's rare words an entry contains (lexical.py) counts in the ranking, beside the
# cosine similarity: 0.1 changed none of `kb eval`'s 80 questions and put the right entry first for two of four
# probe questions it had ranked second ("requests per minute", "pay with a check"); 0.15 and up lost eval questions.
LEXICAL_WEIGHT = 0.1
# A yes-or-no question about a feature ("does the Pro plan come with single sign-on", "do you support webhooks",
# "does that include phone support"): the feature decides the entry. How close the feature alone must be to an
# entry for that entry to answer (the knowledge base's bar for answering at all is 0.40).
# (a short clause before the question may lead in: "i'm an accountant, does it hook up to quickbooks")
_LEAD = r"^(?!.*\b(?:what|how|when|where|which|who|why)\b)(?:[a-z0-9' ]{0,40}? )?"
_ASKS_FEATURE = re.compile(
    _LEAD + r"(?:(?:does|do|is|are|will|would|can|could)\b.{0,60}?\b(?:comes? with|includes?|including|ha(?:ve|s)|"
    r"get|offers?|supports?|provides?|give (?:you|me|us)|got|works? (?:with|in|on)|integrates? (?:with|into)|"
    r"connects? (?:to|with)|hooks? (?:up )?(?:to|with|into)|syncs? with|talks? to)|(?:is|are) there (?:a|an|any|some)?|"
    r"(?:is|are) (?:it|you|you guys|your \w+|\w+)(?= (?:\w+ ){1,2}(?:compliant|certified|approved)\b))"
    r"\b (?P<feature>.+)$")
# "what's the rate limit on the pro plan": the thing asked about, not the plan (the Pro plan's entry came first)
_ASKS_ON_PLAN = re.compile(r"^(?:(?:and|so|ok|okay) )*what(?:'s| is| are| s) the (?P<feature>[a-z0-9' ]+?) (?:on|for|with|in) "
                           r"(?:the |my |our )?(?:pro|business|starter|bigger|cheaper)(?: plan| one| tier| account)?$")
# "what about quickbooks?", "and how about zapier": a follow-up that names only the thing it asks about
_ASKS_ABOUT = re.compile(r"^(?:(?:and|so|ok|okay|alright) )*(?:what|how) about (?:the |a |an )?(?P<feature>.+)$")
FEATURE_MIN_SCORE = 0.45
_FILLERS = re.compile(r"\b(um+|uh+|erm|hmm+|you know|i mean|like|so|well|okay|ok|yeah|hi|hello|hey|"
                      r"good (morning|afternoon|evening))\b")


class Embedder(Protocol):
    """Turns texts into vectors; `model_id` names the model so a store never mixes two."""

    model_id: str

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    # Optional: `knows_word(word) -> bool`, whether the model's vocabulary has the lower-case word as one piece
    # (names it lacks get a boost in search; see knowledge/names.py).


class EmbeddingModelMismatch(KnowledgeError):
    """The collection was built by another embedding model."""


@dataclass(frozen=True)
class Hit:
    entry: FaqEntry
    score: float  # cosine similarity: higher is closer
    named: bool = False  # the question names something this entry mentions that the embedding does not know
    # found by the feature a yes-or-no question asks about, not by the whole question: its answer's own "Yes, ..."
    # may answer another question ("does Pro include single sign-on?" - "Yes, ... included in the Business plan")
    focused: bool = False


@dataclass(frozen=True)
class IngestReport:
    added: int
    updated: int
    deleted: int
    unchanged: int


def chroma_client(directory: Path, url: str | None = None):
    """The Chroma server at `url` (CHROMA_URL: one collection shared by every instance), else an embedded store."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        return chromadb.HttpClient(host=parts.hostname or "localhost", port=parts.port or (443 if secure else 80),
                                   ssl=secure, settings=settings)
    directory.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(directory), settings=settings)


def drop_knowledge_base(directory: Path, url: str | None = None) -> None:
    """Delete the stored collection (embedded folder or the server's collection), for a rebuild."""
    if not url:
        shutil.rmtree(directory, ignore_errors=True)
        return
    try:
        chroma_client(directory, url).delete_collection(COLLECTION)
    except NotFoundError:
        pass


_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                "seven": "7", "eight": "8", "nine": "9"}
# Three or more digits said one by one ("error four two nine", "four oh one"): the code the FAQ writes in digits
_SPOKEN_CODE = re.compile(rf"\b(?:{'|'.join(_DIGIT_WORDS)})(?: (?:{'|'.join(_DIGIT_WORDS)})){{2,}}\b")


_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_ONES = "|".join(list(_DIGIT_WORDS)[2:])
# An error code said as a digit and a number ("a four twenty nine error", "five hundred"): only in a turn that
# says "error", "code" or "status" or that it comes back ("keeps getting a four twenty nine back"), since "two
# thirty" is a time
_SPOKEN_STATUS = re.compile(rf"\b({_ONES}) (?:({'|'.join(_TEENS)})|({'|'.join(_TENS)})(?: ({_ONES}))?|(hundred))\b")


def _status_code(found: re.Match) -> str:
    first, teen, tens, one, _hundred = found.groups()
    rest = _TEENS[teen] if teen else _TENS[tens] + int(_DIGIT_WORDS[one] if one else 0) if tens else 0
    return f"{_DIGIT_WORDS[first]}{rest:02d}"


def clean_query(text: str) -> str:
    """Caller speech as STT writes it, minus fillers and punctuation; an error code said in words in digits."""
    text = re.sub(r"[^\w\s'$]", " ", text.lower())
    text = _SPOKEN_CODE.sub(lambda found: "".join(_DIGIT_WORDS[word] for word in found.group(0).split()), text)
    if re.search(r"\b(error|code|status|getting|got|back|returns?|throws?|seeing|hitting|hit|what'?s that)\b", text):
        text = _SPOKEN_STATUS.sub(_status_code, text)
    return " ".join(_FILLERS.sub(" ", text).split())


def asked_feature(cleaned: str) -> str:
    """The feature a yes-or-no question asks about ("single sign on" in "does the pro plan come with single sign
    on"), or '' when it is no such question or names no feature of its own ("does it have that too")."""
    found = _ASKS_FEATURE.search(cleaned) or _ASKS_ABOUT.search(cleaned) or _ASKS_ON_PLAN.search(cleaned)
    feature = found.group("feature") if found else ""
    return feature if words_of(feature) and feature != cleaned else ""


def _vector_ids(entry: FaqEntry) -> list[str]:
    """The stored vectors of an entry: its question (#q), each other wording (#q1, #q2...), question + answer."""
    return [f"{entry.id}#q", *(f"{entry.id}#q{n}" for n in range(1, len(entry.also_asked) + 1)), f"{entry.id}#qa"]


def _mean(*values: float | None) -> float:
    present = [value for value in values if value is not None]
    return sum(present) / len(present)


class KnowledgeBase:
    """One per process; thread-safe, since calls search from worker threads.

    With a Chroma server (`url`) every instance reads and ingests the same collection. Ingest upserts by entry
    id with a content hash, so instances ingesting at once write the same ids and vectors: never duplicates.
    """

    def __init__(self, directory: Path, embedder: Embedder, min_score: float = 0.40,
                 clock: Callable[[], float] = time.monotonic, url: str | None = None):
        self.embedder = embedder
        self.min_score = min_score
        self.search_failures = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._query_vectors: OrderedDict[str, list[float]] = OrderedDict()
        # name -> entries mentioning it (names.py), and the entries' words (lexical.py): built at first use
        self._names: tuple[dict[str, frozenset[str]], LexicalIndex] | None = None
        self._results: dict[tuple[str, int], tuple[float, list[Hit]]] = {}
        self._client = chroma_client(directory, url)
        self._collection = self._open_collection()

    def _open_collection(self):
        # No embedding function: Chroma's default downloads a model; every vector comes from our embedder.
        collection = self._client.get_or_create_collection(
            COLLECTION, embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedding_model": self.embedder.model_id},
        )
        built_with = (collection.metadata or {}).get("embedding_model")
        if built_with and built_with != self.embedder.model_id and collection.count():
            raise EmbeddingModelMismatch(
                f"The knowledge base was built with embedding model '{built_with}' but '{self.embedder.model_id}' "
                "is configured. Run `voiceagent kb ingest --rebuild` to rebuild it with the configured model."
            )
        return collection

    @property
    def count(self) -> int:
        """Vectors stored (per FAQ entry: one per wording of its question, and one of question + answer)."""
        return self._collection.count()

    @property
    def is_empty(self) -> bool:
        return self.count == 0

    def ingest(self, entries: list[FaqEntry], *, rebuild: bool = False,
               progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Upsert by id: only new or changed entries are embedded; ids no longer present are deleted."""
        with self._lock:
            if rebuild:
                self._client.delete_collection(COLLECTION)
                self._collection = self._client.get_or_create_collection(
                    COLLECTION, embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedding_model": self.embedder.model_id})
            existing = self._collection.get(include=["metadatas"])
            known = {(meta or {}).get("entry"): (meta or {}).get("hash") for meta in existing["metadatas"]}
            wanted = {entry.id: entry for entry in entries}
            changed = [e for e in entries if known.get(e.id) != e.content_hash]
            # vectors of entries gone, and those a changed entry no longer has (a wording taken out of also_asked)
            kept = {vector_id for e in changed for vector_id in _vector_ids(e)}
            stale = [id_ for id_ in existing["ids"] if (entry_id := id_.rsplit("#", 1)[0]) not in wanted
                     or (known.get(entry_id) != wanted[entry_id].content_hash and id_ not in kept)]
            for start in range(0, len(changed), 16):
                batch = changed[start:start + 16]
                # Per entry: each wording of the question alone, and question + answer; search scores an entry by
                # its nearest wording averaged with question + answer.
                texts = [text for e in batch for text in (*e.questions, f"{e.question} {e.answer}")]
                self._collection.upsert(
                    ids=[vector_id for e in batch for vector_id in _vector_ids(e)],
                    embeddings=self.embedder.embed(texts),
                    documents=[e.answer for e in batch for _ in _vector_ids(e)],
                    metadatas=[{"entry": e.id, "question": e.question, "also_asked": "\n".join(e.also_asked),
                                "category": e.category, "hash": e.content_hash}
                               for e in batch for _ in _vector_ids(e)],
                )
                if progress:
                    progress(min(start + len(batch), len(changed)), len(changed))
            if stale:
                self._collection.delete(ids=stale)
            self._names = None  # rebuilt from the stored entries at the next search
            self._results.clear()
            added = sum(1 for e in changed if e.id not in known)
            deleted = len({id_.rsplit("#", 1)[0] for id_ in stale} - set(wanted))
            return IngestReport(added=added, updated=len(changed) - added, deleted=deleted,
                                unchanged=len(entries) - len(changed))

    def _query_vector(self, query: str) -> list[float]:
        with self._lock:
            cached = self._query_vectors.get(query)
            if cached is not None:
                self._query_vectors.move_to_end(query)
                return cached
        vector = self.embedder.embed([query])[0]
        with self._lock:
            self._query_vectors[query] = vector
            if len(self._query_vectors) > 2048:
                self._query_vectors.popitem(last=False)
        return vector

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """Top-k entries for a caller's question, best first."""
        cleaned = clean_query(query)
        if not cleaned:
            return []
        key = (cleaned, k)
        now = self._clock()
        with self._lock:
            cached = self._results.get(key)
            if cached and now - cached[0] < RESULT_TTL_SECS:
                return cached[1]
        scored = self._scored(cleaned)
        if scored is None or not scored[1]:  # the store is down, or holds no entry yet
            return []
        similarity, entries, named, ranking = scored
        asked = asked_feature(cleaned)
        focus = self._scored(asked) if asked else None
        focused = None
        if focus is not None:
            # "does the Pro plan come with single sign-on?": the entry about single sign-on answers it, not the Pro
            # plan's (which the whole question is nearest); only when the feature alone clearly finds one.
            feature = max(focus[0], key=focus[0].get, default=None)
            top = max(ranking, key=ranking.get)
            lexical = self._indexes(entries)[1]
            # ...and only when that entry has a word of the feature that the nearest one lacks ("does it work with
            # slack": the Slack entry has "slack" as the Slack-troubleshooting one does; it stays first)
            if feature is not None and focus[0][feature] >= FEATURE_MIN_SCORE and \
                    (words_of(asked) & lexical.words(feature)) - lexical.words(top):
                similarity[feature] = max(similarity[feature], focus[0][feature])
                named |= focus[2] & {feature}
                ranking = {**ranking, feature: max(ranking.values()) + 1.0}
                focused = feature
        ranked = sorted(similarity, key=lambda entry_id: -ranking[entry_id])
        hits = [Hit(entries[e], round(similarity[e], 4), e in named, e == focused) for e in ranked[:k]]
        with self._lock:
            self._results[key] = (now, hits)
            if len(self._results) > 4096:
                self._results = {k_: v for k_, v in self._results.items() if now - v[0] < RESULT_TTL_SECS}
        return hits

    def _scored(self, cleaned: str) -> tuple[dict[str, float], dict[str, FaqEntry], set[str], dict[str, float]] | None:
        """Every entry's similarity to `cleaned`, the entries, those it names, and their ranking scores; None when
        the embedder or the store is down (the caller is then answered without the FAQ)."""
        try:
            vector = self._query_vector(cleaned)
        except Exception as error:  # a remote embedder that is down or rate-limited: answer without the FAQ
            self.search_failures += 1
            logger.warning(f"Knowledge search unavailable ({type(error).__name__}); answering without the FAQ")
            return None
        try:
            result = self._query(vector)
        except Exception as error:  # the store is down, or a shared collection was rebuilt under this instance
            self.search_failures += 1
            logger.warning(f"Knowledge store unavailable ({type(error).__name__}); answering without the FAQ")
            return None
        asked: dict[str, float] = {}  # per entry, the nearest wording of its question
        full: dict[str, float] = {}  # per entry, question + answer
        entries: dict[str, FaqEntry] = {}
        for vector_id, meta, document, distance in zip(result["ids"][0], result["metadatas"][0],
                                                       result["documents"][0], result["distances"][0]):
            entry_id = meta["entry"]
            if vector_id.endswith("#qa"):
                full[entry_id] = 1.0 - distance
            else:
                asked[entry_id] = max(asked.get(entry_id, -1.0), 1.0 - distance)
            also_asked = tuple(q for q in (meta.get("also_asked") or "").split("\n") if q)
            entries[entry_id] = FaqEntry(entry_id, meta["category"], meta["question"], document, also_asked)
        names, lexical = self._indexes(entries)
        named = set().union(*(names[name] for name in names_in(cleaned, names)))
        similarity = {entry_id: _mean(asked.get(entry_id), full.get(entry_id)) + (NAME_BOOST if entry_id in named
                                                                                    else 0.0)
                      for entry_id in entries}
        # The ranking also weighs the caller's rare words found in an entry; the score (whether to answer at
        # all) stays the embedding's, so a question about something else is not answered for a shared word.
        query_words = words_of(cleaned)
        ranking = {entry_id: value + LEXICAL_WEIGHT * lexical.overlap(query_words, entry_id)
                   for entry_id, value in similarity.items()}
        return similarity, entries, named, ranking

    def _indexes(self, entries: dict[str, FaqEntry]) -> tuple[dict[str, frozenset[str]], LexicalIndex]:
        """The name and word indexes, built from the stored entries at the first search after start-up or an
        ingest (every entry is scored, so all are in `entries`)."""
        indexes = self._names
        if indexes is None:
            indexes = (name_index(entries.values(), getattr(self.embedder, "knows_word", None)),
                       LexicalIndex(entries.values()))
            with self._lock:
                self._names = indexes
        return indexes

    def _query(self, vector: list[float]) -> dict:
        # The store is small (two vectors per FAQ entry), so every vector is scored and pairs are averaged.
        def query() -> dict:
            return self._collection.query(query_embeddings=[vector], n_results=max(1, self.count),
                                          include=["metadatas", "documents", "distances"])

        try:
            return query()
        except NotFoundError:  # another instance rebuilt the shared collection: open the new one
            with self._lock:
                self._collection = self._open_collection()
                self._names = None  # its entries may differ
            return query()

    def clear_cache(self) -> None:
        with self._lock:
            self._query_vectors.clear()
            self._results.clear()

    def best_answer(self, query: str) -> Hit | None:
        """The best entry, or None when nothing is close enough to answer from, or when the question asks about a
        feature by a name that no entry has and the embedding does not know ("does it work with whatsapp": the
        Slack entry's "Yes, install the ByteAI app in Slack" is the nearest, and would be a wrong yes)."""
        # the first of the top three above the bar: a question the rare-word ranking put an entry below the bar
        # first for ("ok english then, how much is it": the languages entry, 0.29) still gets the one above it
        hit = next((hit for hit in self.search(query, k=3)
                    if hit.score >= self.min_score - (NAMED_BAR_DROP if hit.named else 0.0)), None)
        return None if hit is None or self.names_unknown(query) else hit

    def names_unknown(self, query: str) -> bool:
        """Whether a question asks about a feature by a name that no entry has and the embedding does not know
        ("does it work with whatsapp", "what about quickbooks"): nothing in the FAQ answers it."""
        feature = asked_feature(clean_query(query))
        knows_word = getattr(self.embedder, "knows_word", None)
        indexes = self._names
        return bool(feature) and knows_word is not None and indexes is not None and any(
            indexes[1].unseen(words_of(word)) and not knows_word(word) for word in feature.split())
