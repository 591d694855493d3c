"""The FAQ documents: loading and validating the JSON the knowledge base is built from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_FAQ = Path(__file__).parent / "data" / "byteai_faq.json"
DEFAULT_EVAL = Path(__file__).parent / "data" / "eval_questions.json"
HELD_OUT_EVAL = Path(__file__).parent / "data" / "held_out_questions.json"  # written apart, never tuned on


class KnowledgeError(Exception):
    """The knowledge base cannot be used as it is; the message says what to do."""


@dataclass(frozen=True)
class FaqEntry:
    id: str
    category: str
    question: str
    answer: str
    # Other ways callers ask the question ("can I freeze my account for a while" for "Can I pause my
    # subscription?"): each is searched like the question itself, so a caller's words need only be near one.
    also_asked: tuple[str, ...] = ()

    @property
    def questions(self) -> tuple[str, ...]:
        return (self.question, *self.also_asked)

    @property
    def content_hash(self) -> str:
        text = f"{self.question}\n{self.answer}\n{self.category}" + "".join(f"\n{q}" for q in self.also_asked)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_faq(path: Path | None = None) -> list[FaqEntry]:
    """Read `{"documents": [{id, category, question, answer, also_asked?}]}`; ids must be unique, `also_asked`
    (optional) a list of other wordings of the question."""
    path = path or DEFAULT_FAQ
    try:
        documents = json.loads(Path(path).read_text())["documents"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise KnowledgeError(f"{path}: not a FAQ file ({error})") from error
    entries, seen = [], set()
    for index, document in enumerate(documents):
        try:
            entry = FaqEntry(**{key: str(document[key]).strip() for key in ("id", "category", "question", "answer")})
        except (KeyError, TypeError) as error:
            raise KnowledgeError(f"{path}: document {index} lacks {error}") from error
        if not entry.id or not entry.question or not entry.answer:
            raise KnowledgeError(f"{path}: document {index} has an empty id, question or answer")
        also_asked = document.get("also_asked", [])
        if not isinstance(also_asked, list) or not all(isinstance(q, str) and q.strip() for q in also_asked):
            raise KnowledgeError(f"{path}: document {index} ({entry.id}): also_asked must be a list of non-empty "
                                 "questions")
        entry = replace(entry, also_asked=tuple(q.strip() for q in also_asked))
        if entry.id in seen:
            raise KnowledgeError(f"{path}: duplicate id {entry.id}")
        seen.add(entry.id)
        entries.append(entry)
    return entries
