"""`voiceagent bench`: latency, pacing, memory and CPU of simulated calls; a ramp of concurrencies; a soak."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import typer
from rich.console import Console

from voiceagent.config import load_settings
from voiceagent.observability.logging import configure_logging

console = Console()


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
    configure_logging("WARNING")
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

    from voiceagent.simulate.bench import (
        DEFAULT_SCENARIO,
        bench_levels,
        largest_within_budget,
        plot_ramp,
        within_budget,
        write_figures,
    )

    async def main():
        async with _scenario_on_stack(say or DEFAULT_SCENARIO, stack) as (turns, env, emulator_pid):
            with Progress(console=console) as progress:
                tasks = {level: progress.add_task(f"{stack}: {level} calls at a time", total=level) for level in levels}
                return await bench_levels(
                    turns, [(level, level) for level in levels], env=env, cpus=cpus, workers=workers,
                    profile_dir=profile_dir, emulator_pid=emulator_pid,
                    progress=lambda level: (lambda: progress.advance(tasks[level[1]])))

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


@asynccontextmanager
async def _scenario_on_stack(lines: list[str], stack: str):
    """The scenario spoken by the default caller voice, and the stack's environment: for the cloud stack, every
    vendor's emulator in a process of its own (stopped after). Yields (turns, env, emulator pid or None)."""
    import asyncio

    from voiceagent.providers.speech_models import SpeechModels
    from voiceagent.simulate.bench import EmulatorProcess
    from voiceagent.simulate.run import parse_turns
    from voiceagent.simulate.voices import CallerVoice

    models = await asyncio.to_thread(SpeechModels.load)
    turns = parse_turns(lines, [], CallerVoice(models.piper_voice))
    emulators = EmulatorProcess() if stack == "cloud" else None
    env = await emulators.start() if emulators else {}
    try:
        yield turns, env, emulators.process.pid if emulators else None
    finally:
        if emulators:
            emulators.stop()


def _soak(calls: int, say: list[str] | None, stack: str, output: Path) -> None:
    """`bench --soak N`: does the server's memory settle, call after call?"""
    import asyncio
    import json
    from dataclasses import asdict

    from rich.progress import Progress

    from voiceagent.simulate.soak import SOAK_SCENARIO, TARGET_GROWTH, soak_server

    async def main():
        async with _scenario_on_stack(say or SOAK_SCENARIO, stack) as (turns, env, _):
            with Progress(console=console) as progress:
                task = progress.add_task(f"{stack}: soak, {calls} calls one after another", total=calls)
                return await soak_server(turns, calls=calls, env=env, progress=lambda: progress.advance(task))

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
