"""`voiceagent kb`: ingest the FAQ, search it, evaluate retrieval quality."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from voiceagent.config import load_settings

app = typer.Typer(help="Knowledge base: ingest, search, evaluate.", no_args_is_help=True)
console = Console()


def _open_filled():
    """The knowledge base to search: a clear error, not an empty answer, before anything was ingested."""
    kb = _open()
    if kb.is_empty:
        console.print("[red]The knowledge base is empty: run `voiceagent kb ingest` first (the server also ingests "
                      "the FAQ when it starts).[/red]")
        raise typer.Exit(2)
    return kb


def _open(rebuild: bool = False):
    from voiceagent.knowledge import EmbeddingModelMismatch, KnowledgeBase, drop_knowledge_base
    from voiceagent.providers.embeddings import make_embedder

    settings = load_settings()
    embedder = make_embedder(settings)
    directory = settings.data_dir / "chroma"
    try:
        return KnowledgeBase(directory, embedder, url=settings.chroma_url)
    except EmbeddingModelMismatch as error:
        if not rebuild:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from error
        drop_knowledge_base(directory, settings.chroma_url)  # with CHROMA_URL: the collection every instance reads
        return KnowledgeBase(directory, embedder, url=settings.chroma_url)


@app.command()
def ingest(faq: Path = typer.Option(None, help="FAQ JSON (default: the packaged ByteAI FAQ)"),
           rebuild: bool = typer.Option(False, help="Drop the collection and embed everything again")):
    """Add new, re-embed changed and delete removed FAQ entries (idempotent)."""
    from voiceagent.knowledge import KnowledgeError, load_faq

    try:
        entries = load_faq(faq)
    except KnowledgeError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    kb = _open(rebuild)
    with Progress(console=console) as progress:
        task = progress.add_task("embedding changed entries", total=None)
        report = kb.ingest(entries, rebuild=rebuild,
                           progress=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(f"{len(entries)} entries: {report.added} added, {report.updated} updated, "
                  f"{report.deleted} deleted, {report.unchanged} unchanged ({kb.embedder.model_id})")


@app.command()
def search(query: str, k: int = typer.Option(3, "-k", help="How many hits")):
    """Show the closest FAQ entries with their scores."""
    kb = _open_filled()
    table = Table(title=f"threshold for an answer: {kb.min_score}")
    for column in ("id", "score", "question"):
        table.add_column(column)
    for hit in kb.search(query, k=k):
        table.add_row(hit.entry.id, f"{hit.score:.3f}", hit.entry.question)
    console.print(table)
    best = kb.best_answer(query)
    console.print(f"answer: {best.entry.answer}" if best else "answer: [yellow]no answer (below threshold)[/yellow]")


@app.command(name="eval")
def evaluate_command(questions: Path = typer.Option(None, help="Eval questions JSON (default: packaged set)"),
                     held_out: bool = typer.Option(False, "--held-out",
                                                   help="The packaged questions written apart and never tuned on")):
    """Top-1 / top-3 accuracy, no-answer accuracy and p95 query latency."""
    from voiceagent.knowledge.evaluation import evaluate, load_questions
    from voiceagent.knowledge.faq import HELD_OUT_EVAL

    kb = _open_filled()
    report = evaluate(kb, load_questions(HELD_OUT_EVAL if held_out and questions is None else questions))
    console.print(f"questions: {report.total}  top-1: {report.top1:.1%}  top-3: {report.top3:.1%}  "
                  f"answered correctly: {report.answered_correctly:.1%}  "
                  f"no-answer correct: {report.no_answer_correct:.1%}  p95: {report.p95_ms:.1f} ms")
    for miss in report.misses:
        console.print(f"  miss: {miss['question']!r} expected {miss['expected']} got {miss['got']} ({miss['score']})")
