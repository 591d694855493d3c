"""The one command: serve, call (simulate a caller), bench, kb."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from voiceagent.cli_data import app as data_app
from voiceagent.cli_eval import app as eval_app
from voiceagent.cli_kb import app as kb_app
from voiceagent.cli_recordings import app as recordings_app
from voiceagent.config import load_settings

app = typer.Typer(help="Real-time phone voice agent for ByteAI Customer Support.", no_args_is_help=True)
console = Console()
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")
app.add_typer(recordings_app, name="recordings")
app.add_typer(data_app, name="data")


def _configure_logging(level: str) -> None:
    from voiceagent.observability.logging import configure_logging

    configure_logging(level)  # redacted, no local variables in tracebacks (docs/privacy.md)


@app.callback()
def _every_command() -> None:
    """Every sub-command logs through the one redacting set-up; a command may set its own level after."""
    import os

    level = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
    _configure_logging(level if level in ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR") else "INFO")


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default from HOST, 0.0.0.0)"),
    port: int = typer.Option(None, help="Port (default from PORT, 8000)"),
    log_level: str = typer.Option(None, help="DEBUG, INFO, WARNING"),
    workers: int = typer.Option(None, min=1, help="Processes taking calls on the one port, each loading the models "
                                "once (default from WORKERS, 1); above 1 they share limits and stream tokens through "
                                "REDIS_URL, else a private redis-server"),
):
    """Run the voice agent server (Twilio webhook + media WebSocket)."""
    from voiceagent.providers.gcp_secrets import GcpSecretSource
    from voiceagent.secrets import load_settings_with_secrets
    from voiceagent.server import create_app, make_server

    # SECRETS_BACKEND=gcp: keys and tokens come from Secret Manager, over the environment's (docs/deploy.md).
    settings, secrets = load_settings_with_secrets(GcpSecretSource.for_settings)
    _configure_logging(log_level or settings.log_level)
    host = host or settings.host
    port = port or settings.port
    console.print(f"[bold]voiceagent[/bold] on http://{host}:{port}  stack: {settings.stack_summary()}")
    console.print("Twilio voice webhook: POST /webhook/voice   media stream: /ws/media   health: /health")
    workers = workers or settings.workers
    if workers > 1:  # each worker reads the secrets and keeps them current itself
        from voiceagent.workers import run_workers

        raise typer.Exit(run_workers(settings, host, port, workers, log_level or settings.log_level,
                                     announce=console.print))
    if secrets:
        secrets.start()
    # SIGTERM (a deploy) drains: calls in progress go on for up to DRAIN_SECS, new ones hear the busy line.
    try:
        make_server(create_app(settings), host, port).run()
    finally:
        if secrets:
            secrets.stop()


@app.command()
def call(
    say: list[str] = typer.Option(None, "--say", "-s", help="A caller line, spoken by the local voice. "
                                  "'!' first = barge in; '#12' = press keys; '[pause 400]' = 400 ms silence"),
    wav: list[Path] = typer.Option(None, "--wav", help="A caller turn from a WAV file"),
    url: str = typer.Option(None, help="Media WebSocket of a running server, e.g. ws://127.0.0.1:8000/ws/media "
                            "(default: start one in this process)"),
    caller_number: str = typer.Option("+15550100", help="The caller's number (Twilio From)"),
    save: Path = typer.Option(None, help="Save both sides of the call to this stereo WAV"),
    voice: str = typer.Option("piper", help="The caller's voice: piper, or a Debian voice (espeak-us, slt, rms, "
                              "awb, ...) with -slow/-fast and -noisy, e.g. slt-slow-noisy"),
    line_noise: float = typer.Option(0.0, min=0.0, max=1.0, help="A noisy line: pink noise at this volume (sox's, "
                                     "0.06 is about 20 dB under speech) under the whole call, silences included"),
):
    """Simulate a phone call exactly as Twilio would, and print its timeline and latencies."""
    import asyncio

    from rich.table import Table

    from voiceagent.providers.speech_models import SpeechModels
    from voiceagent.runtime import AgentRuntime
    from voiceagent.simulate.run import local_server, parse_turns, simulate_call, summarize
    from voiceagent.simulate.voices import caller_voice
    from voiceagent.simulate.voices import line_noise as noisy_line

    settings = load_settings()
    _configure_logging("WARNING")

    async def main():
        runtime = None if url else await asyncio.to_thread(AgentRuntime.load, settings)
        models = (runtime.speech_models if runtime and runtime.speech_models else
                  await asyncio.to_thread(SpeechModels.load))
        turns = parse_turns(say or [], wav or [], caller_voice(voice, models.piper_voice))
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
        noise = noisy_line(line_noise) if line_noise else None
        if url:
            return await simulate_call(url, turns, models, caller_number=caller_number, save=save, auth_token=token,
                                       line_noise=noise)
        async with local_server(runtime, settings) as local_url:
            return await simulate_call(local_url, turns, models, caller_number=caller_number, save=save,
                                       auth_token=token, line_noise=noise)

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
    stack: str = typer.Option("embedded", help="embedded, or cloud (every vendor emulated in a separate process)"),
    url: str = typer.Option(None, help="Media WebSocket of a running server instead of starting one "
                            "(server CPU, memory and stages are then not measured)"),
    compare_stock: bool = typer.Option(False, help="Also run Pipecat's stock configuration and print the ratio"),
    output: Path = typer.Option(Path("bench-results"), help="Folder for bench.json and bench.png"),
    voice: list[str] = typer.Option(None, "--voice", help="Caller voice(s), one run each (default piper); "
                                    "see `voiceagent call --help`"),
    soak: int = typer.Option(0, "--soak", min=0, help="Instead: N calls one after another against a fresh server; "
                             "prints RSS after call 10 and after call N, their ratio and CPU per call"),
    ramp: str = typer.Option(None, help="Instead: one server measured at several concurrencies, e.g. 10,20,30,50 "
                             "(that many calls at each); a table, ramp.png, and the largest within --p95-budget"),
    p95_budget: float = typer.Option(1.5, help="With --ramp: the p95 latency a concurrency must hold (seconds)"),
    server_cpus: str = typer.Option(None, help="Run the server on these CPUs only (taskset list, e.g. 0) and the "
                                    "simulated callers and emulators on the others"),
    workers: int = typer.Option(1, min=1, help="Worker processes of the bench server (serve --workers); memory and "
                                "CPU are summed over them, stage figures come from the worker /metrics reaches"),
    profile: bool = typer.Option(False, "--profile", help="Sample the server with py-spy during the measured calls; "
                                 "prints the costliest functions, keeps the samples in the output folder"),
    line_noise: float = typer.Option(0.0, min=0.0, max=1.0, help="Every call on a noisy line: pink noise at this "
                                     "volume under the whole call (see `voiceagent call --help`)"),
):
    """Measure response latency (caller side), stages, pacing, server memory/CPU with simulated calls."""
    import asyncio

    from rich.progress import Progress

    from voiceagent.providers.speech_models import SpeechModels
    from voiceagent.simulate.bench import (
        DEFAULT_SCENARIO,
        EmulatorProcess,
        bench_server,
        bench_url,
        cpu_list,
        plot_figures,
        write_figures,
    )
    from voiceagent.simulate.run import parse_turns
    from voiceagent.simulate.voices import caller_voice
    from voiceagent.simulate.voices import line_noise as noisy_line

    if stack not in ("embedded", "cloud"):
        raise typer.BadParameter("use embedded or cloud", param_hint="--stack")
    _configure_logging("WARNING")
    try:
        cpus = cpu_list(server_cpus)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--server-cpus") from None
    if (soak or ramp or profile) and url:
        raise typer.BadParameter("a soak, a ramp or a profile starts a server of its own", param_hint="--url")
    if profile:
        from voiceagent.simulate.profile import ProfilerMissing, py_spy

        try:
            py_spy()
        except ProfilerMissing as error:
            raise typer.BadParameter(str(error), param_hint="--profile") from None
    profile_dir = output if profile else None
    if soak:
        _soak(soak, say, stack, output)
        return
    if ramp:
        try:
            levels = sorted({int(level) for level in ramp.split(",") if level.strip()})
        except ValueError:
            levels = []
        if not levels or levels[0] < 1:
            raise typer.BadParameter("a list of concurrencies such as 10,20,30,50", param_hint="--ramp")
        _ramp(levels, say, stack, output, p95_budget, cpus, workers, profile_dir)
        return
    profiles = ["tuned", "stock"] if compare_stock and not url else ["tuned"]

    async def main():
        models = await asyncio.to_thread(SpeechModels.load)
        voices = {name: parse_turns(say or DEFAULT_SCENARIO, [], caller_voice(name, models.piper_voice))
                  for name in (voice or ["piper"])}
        turns = next(iter(voices.values()))
        noise = noisy_line(line_noise) if line_noise else None
        runs = []
        with Progress(console=console) as progress:
            if url:
                task = progress.add_task(f"{url}: {calls} calls, {concurrency} at a time", total=calls)
                token = load_settings().twilio_auth_token
                return [await bench_url(turns, url, calls=calls, concurrency=concurrency, line_noise=noise,
                                        progress=lambda: progress.advance(task),
                                        auth_token=token.get_secret_value() if token else None)]
            env = {}
            emulators = EmulatorProcess() if stack == "cloud" else None
            if emulators:
                env = await emulators.start()
            try:
                for (name, turns), profile in ((pair, p) for pair in voices.items() for p in profiles):
                    label = stack if len(voices) == 1 else f"{stack} {name}"
                    task = progress.add_task(f"{label}/{profile}: {calls} calls, {concurrency} at a time", total=calls)
                    run = await bench_server(turns, calls=calls, concurrency=concurrency, profile=profile, env=env,
                                             progress=lambda task=task: progress.advance(task),
                                             emulator_pid=emulators.process.pid if emulators else None,
                                             cpus=cpus, workers=workers, profile_dir=profile_dir,
                                             line_noise=noise)
                    run.stack = label
                    runs.append(run)
            finally:
                if emulators:
                    emulators.stop()
        return runs

    runs = asyncio.run(main())
    write_figures(output / "bench.json", runs)
    plot_figures(output / "bench.png", runs)
    _print_bench(runs, concurrency)
    if profile_dir:
        _print_profiles(profile_dir)
    console.print(f"figures: {output / 'bench.json'}, plot: {output / 'bench.png'}")


def _print_bench(runs, concurrency: int) -> None:
    from rich.table import Table

    table = Table(title="voiceagent bench (latency = end of caller speech -> first agent audio, at the caller)")
    table.add_column("figure")
    for run in runs:
        table.add_column(f"{run.stack}/{run.profile}", justify="right")

    def row(name, render):
        table.add_row(name, *[render(run) for run in runs])

    row("turns (unanswered)", lambda r: f"{r.turns} ({r.unanswered_turns})")
    if any(run.refused_calls for run in runs):  # a given server's MAX_CONCURRENT_CALLS or per-number limit
        row("calls refused by the webhook", lambda r: f"{r.refused_calls} of {r.calls}")
    for key in ("median", "p95", "p99", "max"):
        row(f"latency {key}", lambda r, key=key: f"{r.latency.get(key, float('nan')):.3f} s")
    for stage in (runs[0].stage_means or {}):
        row(f"  stage {stage} (mean)", lambda r, stage=stage: f"{r.stage_means.get(stage, float('nan')):.3f} s")
    if any(run.speculative_answers for run in runs):  # counted over the measured calls (the warm-up call left out)
        row("speculative answers kept / discarded", lambda r: "{} / {}".format(
            r.speculative_answers.get("kept", "-"), r.speculative_answers.get("discarded", "-")))
    row("greeting first audio (median)", lambda r: f"{r.greeting.get('median', float('nan')):.3f} s")
    row("late outbound frames (of all)", lambda r: f"{r.late_frames} ({r.agent_frames})")
    row("worst mid-reply gap", lambda r: f"{r.worst_underrun_ms:.0f} ms")
    row("server RSS after start-up", lambda r: f"{r.server_rss_start_mb:.0f} MB")
    row("server RSS during one call", lambda r: f"{r.server_rss_after_warmup_mb:.0f} MB")
    row(f"server RSS peak, {concurrency} calls", lambda r: f"{r.server_rss_peak_mb:.0f} MB")
    row("extra RSS per concurrent call", lambda r: f"{r.extra_rss_per_call_mb:.1f} MB")
    row("server CPU per call", lambda r: f"{r.server_cpu_seconds_per_call:.2f} s")
    row("server CPU per call-minute", lambda r: f"{r.server_cpu_seconds_per_call_minute:.2f} s")
    row("simulated callers' CPU per call", lambda r: f"{r.caller_cpu_seconds_per_call:.2f} s")
    if any(run.emulator_cpu_seconds_per_call for run in runs):
        row("emulators' CPU per call", lambda r: f"{r.emulator_cpu_seconds_per_call:.2f} s")
    console.print(table)
    if len(runs) == 2 and runs[1].profile == "stock" and runs[1].latency and runs[0].latency:
        console.print(f"tuned/stock median latency ratio: {runs[0].latency['median'] / runs[1].latency['median']:.2f}")


def _print_profiles(folder: Path) -> None:
    """The costliest server functions of each profiled run (own samples, and samples with them on the stack)."""
    from rich.table import Table

    from voiceagent.simulate.profile import summarize_profile

    for path in sorted(folder.glob("profile-*.txt")):
        summary = summarize_profile(path)
        table = Table(title=f"{path.name}: {summary.samples} samples of the server's busy threads")
        table.add_column("own time: function")
        table.add_column("share", justify="right")
        table.add_column("with callees: function")
        table.add_column("share", justify="right")
        for (own, own_share), (total, total_share) in zip(summary.top("own"), summary.top("total")):
            table.add_row(own, f"{own_share:.1%}", total, f"{total_share:.1%}")
        console.print(table)


def _ramp(levels: list[int], say: list[str] | None, stack: str, output: Path, p95_budget: float,
          cpus: set[int] | None, workers: int, profile_dir: Path | None = None) -> None:
    """`bench --ramp 10,20,30,50`: one server at each concurrency; where does it stop holding the budget?"""
    import asyncio
    import os

    from rich.progress import Progress
    from rich.table import Table

    from voiceagent.providers.speech_models import SpeechModels
    from voiceagent.simulate.bench import (
        DEFAULT_SCENARIO,
        EmulatorProcess,
        bench_levels,
        largest_within_budget,
        plot_ramp,
        within_budget,
        write_figures,
    )
    from voiceagent.simulate.run import parse_turns
    from voiceagent.simulate.voices import CallerVoice

    async def main():
        models = await asyncio.to_thread(SpeechModels.load)
        turns = parse_turns(say or DEFAULT_SCENARIO, [], CallerVoice(models.piper_voice))
        emulators = EmulatorProcess() if stack == "cloud" else None
        env = await emulators.start() if emulators else {}
        try:
            with Progress(console=console) as progress:
                tasks = {level: progress.add_task(f"{stack}: {level} calls at a time", total=level) for level in levels}
                return await bench_levels(
                    turns, [(level, level) for level in levels], env=env, cpus=cpus, workers=workers,
                    profile_dir=profile_dir,
                    emulator_pid=emulators.process.pid if emulators else None,
                    progress=lambda level: (lambda: progress.advance(tasks[level[1]])))
        finally:
            if emulators:
                emulators.stop()

    runs = asyncio.run(main())
    for run in runs:
        run.stack = stack
    write_figures(output / "ramp.json", runs)
    plot_ramp(output / "ramp.png", runs, p95_budget)
    where = f"server on CPU {','.join(map(str, sorted(cpus)))}" if cpus else f"{os.cpu_count()} CPUs shared"
    table = Table(title=f"voiceagent bench --ramp, {stack} stack, {workers} worker(s), {where}")
    for column in ("calls at once", "turns (unanswered)", "p50", "p95", "late frames", "server CPU / call-min",
                   "callers CPU / call", "emulators CPU / call", f"p95 <= {p95_budget:g} s"):
        table.add_column(column, justify="right")
    for run in runs:
        table.add_row(str(run.concurrency), f"{run.turns} ({run.unanswered_turns})",
                      f"{run.latency.get('median', float('nan')):.2f} s", f"{run.latency.get('p95', float('nan')):.2f} s",
                      f"{100 * run.late_frames / max(1, run.agent_frames):.2f}%",
                      f"{run.server_cpu_seconds_per_call_minute:.2f} s", f"{run.caller_cpu_seconds_per_call:.2f} s",
                      f"{run.emulator_cpu_seconds_per_call:.2f} s", "yes" if within_budget(run, p95_budget) else "no")
    console.print(table)
    if profile_dir:
        _print_profiles(profile_dir)
    best = largest_within_budget(runs, p95_budget)
    console.print(f"largest concurrency within p95 {p95_budget:g} s, every turn answered, < 0.5% late frames: "
                  f"{best if best is not None else 'none of ' + ','.join(map(str, levels))}")
    console.print(f"figures: {output / 'ramp.json'}, plot: {output / 'ramp.png'}")


def _soak(calls: int, say: list[str] | None, stack: str, output: Path) -> None:
    """`bench --soak N`: does the server's memory settle, call after call?"""
    import asyncio
    import json
    from dataclasses import asdict

    from rich.progress import Progress

    from voiceagent.providers.speech_models import SpeechModels
    from voiceagent.simulate.bench import EmulatorProcess
    from voiceagent.simulate.run import parse_turns
    from voiceagent.simulate.soak import SOAK_SCENARIO, TARGET_GROWTH, soak_server
    from voiceagent.simulate.voices import CallerVoice

    async def main():
        models = await asyncio.to_thread(SpeechModels.load)
        turns = parse_turns(say or SOAK_SCENARIO, [], CallerVoice(models.piper_voice))
        emulators = EmulatorProcess() if stack == "cloud" else None
        env = await emulators.start() if emulators else {}
        try:
            with Progress(console=console) as progress:
                task = progress.add_task(f"{stack}: soak, {calls} calls one after another", total=calls)
                return await soak_server(turns, calls=calls, env=env, progress=lambda: progress.advance(task))
        finally:
            if emulators:
                emulators.stop()

    figures = asyncio.run(main())
    output.mkdir(parents=True, exist_ok=True)
    (output / "soak.json").write_text(json.dumps({**asdict(figures), "stack": stack, "rss_ratio": figures.rss_ratio},
                                                 indent=2))
    console.print(f"server RSS after start-up {figures.rss_start_mb:.0f} MB, after call {figures.reference_call} "
                  f"{figures.rss_reference_mb:.1f} MB, after call {len(figures.rss_after_call_mb)} "
                  f"{figures.rss_last_mb:.1f} MB: ratio {figures.rss_ratio:.3f} "
                  f"({'within' if figures.within_target else 'OVER'} the {TARGET_GROWTH:.0%} target)")
    latency = figures.latency
    console.print(f"server CPU per call {figures.cpu_seconds_per_call:.2f} s; {figures.turns} turns "
                  f"({figures.unanswered_turns} unanswered, {figures.refused_calls} calls refused), latency median "
                  f"{latency.get('median', float('nan')):.2f} s, p95 {latency.get('p95', float('nan')):.2f} s; "
                  f"{figures.wall_seconds / 60:.1f} min")
    console.print(f"figures: {output / 'soak.json'}")


@app.command()
def emulate(
    env_file: Path = typer.Option(None, help="Also write the environment that points a server here to this file"),
    stt_final_ms: float = typer.Option(300, help="Deepgram: end of speech -> final transcript (median)"),
    llm_first_token_ms: float = typer.Option(400, help="Anthropic: request -> first token (median)"),
    tts_first_audio_ms: float = typer.Option(250, help="ElevenLabs: text -> first audio (median)"),
):
    """Run local emulators of Deepgram, Anthropic, ElevenLabs, OpenAI (embeddings, chat) and Twilio REST."""
    import asyncio

    from voiceagent.emulators.run import start_emulators
    from voiceagent.providers.speech_models import SpeechModels

    _configure_logging("WARNING")

    async def main():
        models = await asyncio.to_thread(SpeechModels.load)
        async with start_emulators(models, stt_final_ms=stt_final_ms, llm_first_token_ms=llm_first_token_ms,
                                   tts_first_audio_ms=tts_first_audio_ms) as emulators:
            env = emulators.env()
            if env_file:
                env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
            console.print("Emulators running. Point the server at them with:")
            for key, value in env.items():
                console.print(f"  export {key}={value}")
            await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


@app.command("config")
def config_reference(
    markdown: bool = typer.Option(True, "--markdown", help="Markdown tables, one per group (the only format)"),
):
    """Print the configuration reference (every setting, its default and what it accepts) from the code."""
    from voiceagent.config import settings_reference_markdown

    typer.echo(settings_reference_markdown(), nl=False)


if __name__ == "__main__":
    app()
