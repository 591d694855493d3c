"""Retrieval quality on caller-style questions: top-1, top-3, "no answer" accuracy, query latency."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from voiceagent.knowledge.faq import DEFAULT_EVAL
from voiceagent.knowledge.store import KnowledgeBase


@dataclass
class EvalReport:
    total: int = 0
    top1: float = 0.0
    top3: float = 0.0
    answered_correctly: float = 0.0  # in-scope questions answered (above threshold) with the right entry
    no_answer_correct: float = 0.0  # out-of-scope questions reported as "no answer"
    p95_ms: float = 0.0
    misses: list[dict] = field(default_factory=list)


def load_questions(path: Path | None = None) -> list[dict]:
    return json.loads(Path(path or DEFAULT_EVAL).read_text())["questions"]


def _expected(item: dict) -> set[str]:
    """The entries that answer a question: one id, a list of ids (either answers it), or none (null)."""
    expected = item["expected"]
    return set(expected) if isinstance(expected, list) else {expected} if expected else set()


def evaluate(kb: KnowledgeBase, questions: list[dict]) -> EvalReport:
    """Score the knowledge base; cached results are bypassed so latency is real."""
    in_scope = [q for q in questions if _expected(q)]
    out_scope = [q for q in questions if not _expected(q)]
    kb.clear_cache()
    top1 = top3 = answered = refused = 0
    latencies, misses = [], []
    for item in questions:
        started = time.perf_counter()
        hits = kb.search(item["question"], k=3)
        latencies.append((time.perf_counter() - started) * 1000)
        best = kb.best_answer(item["question"])  # what the agent answers from: None below the bar
        expected = _expected(item)
        if expected:
            ids = [hit.entry.id for hit in hits]
            top1 += bool(ids) and ids[0] in expected
            top3 += bool(expected & set(ids))
            if best and best.entry.id in expected:
                answered += 1
            elif not ids or ids[0] not in expected:
                misses.append({"question": item["question"], "expected": item["expected"], "got": ids[:1],
                               "score": hits[0].score if hits else None})
        else:
            if best is None:
                refused += 1
            else:
                misses.append({"question": item["question"], "expected": None, "got": [best.entry.id],
                               "score": best.score})
    ordered = sorted(latencies)
    return EvalReport(
        total=len(questions),
        top1=top1 / max(1, len(in_scope)),
        top3=top3 / max(1, len(in_scope)),
        answered_correctly=answered / max(1, len(in_scope)),
        no_answer_correct=refused / max(1, len(out_scope)),
        p95_ms=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0,
        misses=misses,
    )
