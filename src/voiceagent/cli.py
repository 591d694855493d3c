"""The one command: serve, call (simulate a caller), bench, kb."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from voiceagent.config import Settings

app = typer.Typer(help="Real-time phone voice agent for ByteAI Customer Support.", no_args_is_help=True)
console = Console()


def _configure_logging(level: str) -> None:
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level=level.upper())


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default from HOST, 0.0.0.0)"),
    port: int = typer.Option(None, help="Port (default from PORT, 8000)"),
    log_level: str = typer.Option(None, help="DEBUG, INFO, WARNING"),
):
    """Run the voice agent server (Twilio webhook + media WebSocket)."""
    import uvicorn

    from voiceagent.server import create_app

    settings = Settings()
    _configure_logging(log_level or settings.log_level)
    host = host or settings.host
    port = port or settings.port
    console.print(f"[bold]voiceagent[/bold] on http://{host}:{port}  stack: {settings.stack_summary()}")
    console.print(f"Twilio voice webhook: POST /webhook/voice   media stream: /ws/media   health: /health")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", ws_max_size=1 << 20)


@app.command()
def call(
    say: list[str] = typer.Option(None, "--say", "-s", help="A caller line, spoken by the local voice. "
                                  "'!' first = barge in; '#12' = press keys; '[pause 400]' = 400 ms silence"),
    wav: list[Path] = typer.Option(None, "--wav", help="A caller turn from a WAV file"),
    url: str = typer.Option(None, help="Media WebSocket of a running server, e.g. ws://127.0.0.1:8000/ws/media "
                            "(default: start one in this process)"),
    caller_number: str = typer.Option("+15550100", help="The caller's number (Twilio From)"),
    save: Path = typer.Option(None, help="Save both sides of the call to this stereo WAV"),
):
    """Simulate a phone call exactly as Twilio would, and print its timeline and latencies."""
    import asyncio

    from rich.table import Table

    from voiceagent.providers.embedded import SpeechModels
    from voiceagent.runtime import AgentRuntime
    from voiceagent.simulate.run import local_server, parse_turns, simulate_call, summarize
    from voiceagent.simulate.voices import CallerVoice

    settings = Settings()
    _configure_logging("WARNING")

    async def main():
        runtime = None if url else await asyncio.to_thread(AgentRuntime.load, settings)
        models = (runtime.speech_models if runtime and runtime.speech_models else
                  await asyncio.to_thread(SpeechModels.load))
        turns = parse_turns(say or [], wav or [], CallerVoice(models.piper_voice))
        if url:
            return await simulate_call(url, turns, models, caller_number=caller_number, save=save)
        async with local_server(runtime, settings) as local_url:
            return await simulate_call(local_url, turns, models, caller_number=caller_number, save=save)

    report = asyncio.run(main())
    table = Table(title=f"Call {report.result.call_sid[:10]}…")
    table.add_column("t (s)", justify="right")
    table.add_column("who")
    table.add_column("what")
    for at, who, text in report.timeline():
        table.add_row(f"{at:6.2f}", who, text)
    console.print(table)
    for index, turn in enumerate(report.result.turns, 1):
        latency = f"{turn.latency:.2f} s" if turn.latency is not None else "no answer"
        console.print(f"turn {index}: response latency {latency}")
    figures = summarize(report.latencies)
    if figures:
        console.print(f"median {figures['median']:.2f} s, p95 {figures['p95']:.2f} s over {figures['turns']} turns")
    ending = "agent hung up" if report.result.hung_up_by_agent else "caller hung up"
    console.print(f"{ending}; marks echoed {report.result.marks_sent_back}, clears {report.result.clears}")
    if save:
        console.print(f"saved {save}")


@app.command()
def bench(
    calls: int = typer.Option(6, help="Simulated calls in the measured run"),
    concurrency: int = typer.Option(3, help="Calls at the same time"),
    say: list[str] = typer.Option(None, "--say", "-s", help="Caller lines of the scenario (default: a FAQ call)"),
    output: Path = typer.Option(Path("bench-results/bench.json"), help="Where to write the figures as JSON"),
):
    """Measure response latency (caller side) and server memory/CPU with simulated calls."""
    import asyncio

    from rich.progress import Progress
    from rich.table import Table

    from voiceagent.providers.embedded import SpeechModels
    from voiceagent.simulate.bench import DEFAULT_SCENARIO, ServerProcess, _rss_mb, run_bench, write_figures
    from voiceagent.simulate.run import parse_turns
    from voiceagent.simulate.voices import CallerVoice

    _configure_logging("WARNING")
    lines = say or DEFAULT_SCENARIO

    async def main():
        models = await asyncio.to_thread(SpeechModels.load)
        turns = parse_turns(lines, [], CallerVoice(models.piper_voice))
        async with ServerProcess() as server:
            start_rss = _rss_mb(server.pid)
            with Progress(console=console) as progress:
                task = progress.add_task("warm-up call", total=1)
                warm = await run_bench(turns, calls=1, concurrency=1, url=server.url, pid=server.pid,
                                       progress=lambda: progress.advance(task))
                task = progress.add_task(f"{calls} calls, {concurrency} at a time", total=calls)
                measured = await run_bench(turns, calls=calls, concurrency=concurrency, url=server.url,
                                           pid=server.pid, progress=lambda: progress.advance(task))
            measured.server_rss_start_mb = start_rss
            measured.server_rss_after_warmup_mb = warm.server_rss_peak_mb
            if concurrency > 1:
                measured.extra_rss_per_call_mb = max(
                    0.0, (measured.server_rss_peak_mb - warm.server_rss_peak_mb) / (concurrency - 1))
            return warm, measured

    warm, measured = asyncio.run(main())
    write_figures(output, [warm, measured])
    table = Table(title="voiceagent bench (response latency = end of caller speech -> first agent audio)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    latency = measured.latency
    rows = [
        ("turns measured", f"{measured.turns} ({measured.unanswered_turns} unanswered)"),
        ("latency median", f"{latency.get('median', float('nan')):.3f} s"),
        ("latency p95", f"{latency.get('p95', float('nan')):.3f} s"),
        ("latency max", f"{latency.get('max', float('nan')):.3f} s"),
        ("server RSS after start-up", f"{measured.server_rss_start_mb:.0f} MB"),
        ("server RSS during one call", f"{measured.server_rss_after_warmup_mb:.0f} MB"),
        (f"server RSS peak, {concurrency} calls", f"{measured.server_rss_peak_mb:.0f} MB"),
        ("extra RSS per concurrent call", f"{measured.extra_rss_per_call_mb:.1f} MB"),
        ("server CPU per call", f"{measured.server_cpu_seconds_per_call:.2f} s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print(f"figures written to {output}")


if __name__ == "__main__":
    app()
