"""`voiceagent eval`: intent accuracy on held-out turns, STT word accuracy per caller voice, caller scenarios."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from voiceagent.config import load_settings

app = typer.Typer(help="Evaluate understanding, transcription and whole calls.", no_args_is_help=True)
console = Console() if sys.stdout.isatty() else Console(width=140)  # tables stay readable in a CI log
DEFAULT_SCENARIOS = "byteai"  # the packaged simulate/data/byteai_scenarios.yaml


def _quiet() -> None:
    from loguru import logger

    logger.remove()


@app.command()
def intents(
    errors: bool = typer.Option(False, help="Also list every held-out turn read wrongly"),
    leave_one_out: bool = typer.Option(False, help="Also score the training examples, each left out in turn "
                                                   "(what the thresholds were set on)"),
):
    """Intent accuracy on the held-out caller turns: the classifier the dialog uses vs the old regex layer."""
    import warnings

    from voiceagent.brain.intents import IntentClassifier
    from voiceagent.evals.intents import evaluate_heldout
    from voiceagent.evals.intents import leave_one_out as score_training
    from voiceagent.providers.minilm import MiniLMEmbedder

    _quiet()
    warnings.filterwarnings("ignore")
    classifier = IntentClassifier(MiniLMEmbedder().embed)
    scores = evaluate_heldout(classifier) + (score_training(classifier) if leave_one_out else [])
    states = list(scores[0].per_state)
    table = Table(title="Intent accuracy (held-out caller turns, never used as examples or to tune)")
    for column in ["reading", "accuracy", *states, "unsure"]:
        table.add_column(column, justify="left" if column == "reading" else "right")
    for score in scores:
        table.add_row(score.name, f"{score.accuracy:.1%} ({score.correct}/{score.total})",
                      *[f"{score.per_state[s][0]}/{score.per_state[s][1]}" for s in states], str(score.unsure))
    console.print(table)
    confusions = Table(title="Confusion pairs (state: expected -> read as)")
    confusions.add_column("reading")
    confusions.add_column("pair")
    confusions.add_column("turns", justify="right")
    for score in scores:
        for (state, expected, got), count in score.confusions.most_common(8):
            confusions.add_row(score.name, f"{state}: {expected} -> {got}", str(count))
    console.print(confusions)
    if errors:
        for score in scores:
            console.print(f"[bold]{score.name}[/bold]")
            for state, expected, got, text in score.errors:
                console.print(f"  [{state}] {expected} -> {got}: {text!r}")


@app.command()
def stt(
    voice: list[str] = typer.Option(None, "--voice", help="Caller voice(s) (default: piper and six Debian voices); "
                                    "see `voiceagent call --help`"),
    mistakes: bool = typer.Option(False, help="Also print each line heard wrongly"),
):
    """Word accuracy (1 - WER) of the embedded Whisper (as configured: WHISPER_BEAM_SIZE) on ByteAI caller lines,
    per voice, over 8 kHz mu-law."""
    from voiceagent.evals.stt import ALL_LINES, DEFAULT_VOICES, LINES, score_voice
    from voiceagent.providers.speech_models import SpeechModels
    from voiceagent.simulate.voices import caller_voice

    _quiet()
    settings = load_settings()
    if settings.resolved_provider("stt") != "embedded":
        console.print("[yellow]The configured STT is a cloud one; this measures the embedded Whisper (the Deepgram "
                      "emulator transcribes with the same model).[/yellow]")
    models = SpeechModels.load(whisper_threads=settings.whisper_threads)
    table = Table(title=f"STT word accuracy over the phone line ({len(ALL_LINES)} lines per voice, WHISPER_BEAM_SIZE "
                        f"{settings.whisper_beam_size}, text normalised as in docs/understanding.md)")
    for column in ("voice", "WER", "word accuracy", f"first {len(LINES)} (tuned on)",
                   f"last {len(ALL_LINES) - len(LINES)} (held out)", "lines exact"):
        table.add_column(column, justify="left" if column == "voice" else "right")
    scores = []
    for name in voice or DEFAULT_VOICES:
        score = score_voice(name, caller_voice(name, models.piper_voice),
                            lambda audio: models.transcribe(audio, settings.whisper_beam_size))
        scores.append(score)
        table.add_row(name, f"{score.wer:.1%}", f"{score.accuracy:.1%}", f"{score.part(0, len(LINES)).accuracy:.1%}",
                      f"{score.part(len(LINES)).accuracy:.1%}",
                      f"{len(ALL_LINES) - len(score.mistakes())}/{len(ALL_LINES)}")
    console.print(table)
    if mistakes:
        for score in scores:
            for said, heard in score.mistakes():
                console.print(f"  [{score.voice}] said {said!r}\n  {' ' * len(score.voice)}   heard {heard!r}")


@app.command()
def scenarios(
    file: str = typer.Argument(DEFAULT_SCENARIOS, help="A scenario YAML file, or 'byteai' for the packaged one"),
    url: str = typer.Option(None, help="Media WebSocket of a running server (tool and outcome checks then "
                            "cannot be made: they read the server's own database)"),
    junit: Path = typer.Option(None, help="Write the results as JUnit XML here, for CI"),
):
    """Run caller scenarios as real calls over Media Streams and check what the agent said and did."""
    import asyncio
    from importlib import resources

    from voiceagent.evals.scenarios import ScenarioError, junit_xml, load_scenarios, run_scenarios
    from voiceagent.providers.speech_models import SpeechModels
    from voiceagent.runtime import AgentRuntime

    _quiet()
    path = resources.files("voiceagent.simulate") / "data/byteai_scenarios.yaml" if file == "byteai" else Path(file)
    try:
        loaded = load_scenarios(path)
    except ScenarioError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    settings = load_settings()
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None

    async def main():
        runtime = None if url else await asyncio.to_thread(AgentRuntime.load, settings)
        models = (runtime.speech_models if runtime and runtime.speech_models else
                  await asyncio.to_thread(SpeechModels.load))
        return await run_scenarios(loaded, models, url=url, runtime=runtime, settings=settings, auth_token=token,
                                   progress=lambda name: console.print(f"called: {name}"))

    run = asyncio.run(main())
    table = Table(title=f"Scenarios: {path}")
    for column in ("scenario", "check", "result", "detail"):
        table.add_column(column)
    for check in run.checks:
        table.add_row(check.scenario, check.what, "[green]pass[/green]" if check.passed else "[red]FAIL[/red]",
                      "" if check.passed else check.detail)
    console.print(table)
    for name, latencies in run.latencies.items():
        answered = sorted(latencies)
        if answered:
            console.print(f"{name}: {len(answered)} turns answered, slowest {answered[-1]:.2f} s")
    passed_scenarios = [name for name in run.seconds if all(c.passed for c in run.checks if c.scenario == name)]
    console.print(f"{len(passed_scenarios)}/{len(run.seconds)} scenarios passed, "
                  f"{sum(c.passed for c in run.checks)}/{len(run.checks)} checks")
    if url:
        console.print("Remote server: tool and outcome checks fail as not checkable (they read the server's database).")
    if junit:
        junit_xml(run.checks, junit, run.seconds)
        console.print(f"JUnit XML: {junit}")
    if len(passed_scenarios) < len(run.seconds):
        raise typer.Exit(1)
