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


def evaluate(kb: KnowledgeBase, questions: list[dict]) -> EvalReport:
    """Score the knowledge base; cached results are bypassed so latency is real."""
    in_scope = [q for q in questions if q["expected"]]
    out_scope = [q for q in questions if not q["expected"]]
    kb.clear_cache()
    top1 = top3 = answered = refused = 0
    latencies, misses = [], []
    for item in questions:
        started = time.perf_counter()
        hits = kb.search(item["question"], k=3)
        latencies.append((time.perf_counter() - started) * 1000)
        best = hits[0] if hits else None
        if item["expected"]:
            ids = [hit.entry.id for hit in hits]
            top1 += bool(ids) and ids[0] == item["expected"]
            top3 += item["expected"] in ids
            if best and best.entry.id == item["expected"] and best.score >= kb.min_score:
                answered += 1
            elif not ids or ids[0] != item["expected"]:
                misses.append({"question": item["question"], "expected": item["expected"], "got": ids[:1],
                               "score": best.score if best else None})
        else:
            if best is None or best.score < kb.min_score:
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
