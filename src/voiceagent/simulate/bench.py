"""`voiceagent bench`: response latency and memory of a real server process under simulated calls."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from voiceagent.process import process_tree, rss_mb, stat_fields
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.profile import ServerProfiler
from voiceagent.simulate.run import free_port, summarize, twilio_call

STAGGER_SECS = 0.5  # between the starts of the first calls of a concurrent run
RAMP_SPREAD_SECS = 10.0  # at most this long from the first call's start to the last's at one concurrency
LATE_FRAME_SHARE = 0.005  # a run holds its budget with fewer late outbound frames than this share
DEFAULT_SCENARIO = [
    "Hi, I have a question about your plans.",
    "How much does the Pro plan cost?",
    "And what about [pause 300] the Business plan?",
    "Do you have a free trial?",
    "Okay, thanks. Goodbye.",
]


@dataclass
class BenchFigures:
    """What one bench run measured; written as JSON next to the printed table."""

    calls: int
    concurrency: int
    turns: int = 0
    unanswered_turns: int = 0
    refused_calls: int = 0  # the webhook said a busy (or too-many-calls) line instead of connecting
    latency: dict = field(default_factory=dict)
    latencies: list = field(default_factory=list)
    greeting: dict = field(default_factory=dict)  # stream start -> first audio of the greeting, at the caller
    server_rss_start_mb: float = 0.0
    server_rss_after_warmup_mb: float = 0.0
    server_rss_peak_mb: float = 0.0
    extra_rss_per_call_mb: float = 0.0
    server_cpu_seconds_per_call: float = 0.0
    call_minutes: float = 0.0  # the measured calls' total length, socket open to close
    server_cpu_seconds_per_call_minute: float = 0.0  # the per-core figure: what one minute of one call costs
    # What else ran on the same cores meanwhile: the bench's simulated callers and the vendor emulators
    caller_cpu_seconds_per_call: float = 0.0
    emulator_cpu_seconds_per_call: float = 0.0
    wall_seconds: float = 0.0
    profile: str = "tuned"
    stack: str = "embedded"
    stage_means: dict = field(default_factory=dict)
    speculative_answers: dict = field(default_factory=dict)  # kept / discarded (LLM brains)
    agent_frames: int = 0
    late_frames: int = 0  # outbound frames that arrived after playback ran dry mid-reply
    worst_underrun_ms: float = 0.0


def _own_cpu_seconds(pid: int) -> float:
    """CPU time of one process alone (the bench's own: its children are the server and the emulators)."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its descendants: each live one's own, plus what exited ones left in their
    parents' cutime/cstime."""
    ticks = 0
    for member in process_tree(pid):
        try:
            ticks += sum(int(value) for value in stat_fields(member)[11:15])  # utime, stime, cutime, cstime
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_or_zero(pid: int) -> float:
    try:
        return rss_mb(pid)
    except OSError:  # gone meanwhile
        return 0.0


def _tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants, summed (pages the workers share count once per worker)."""
    return sum(_rss_or_zero(member) for member in process_tree(pid))


def cpu_list(text: str | None) -> set[int] | None:
    """`0` or `0,1` or `0-3` (taskset's list) as a set of CPU numbers; None for none given."""
    if not text:
        return None
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    unknown = cpus - _machine_cpus()
    if unknown:
        raise ValueError(f"CPU(s) {sorted(unknown)} not available here (this machine has {sorted(_machine_cpus())})")
    return cpus


def _machine_cpus() -> set[int]:
    return set(range(os.cpu_count() or 1))


def pin_harness(server_cpus: set[int] | None, *pids: int) -> None:
    """Keep the simulated callers and the emulators off the server's CPUs (when any CPU is left for them)."""
    if not server_cpus:
        return
    rest = _machine_cpus() - server_cpus or _machine_cpus()
    for pid in (0, *pids):
        os.sched_setaffinity(pid, rest)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _tail(log, size: int = 2000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-size:]


class ServerProcess:
    """`voiceagent serve` in its own process, so its memory and CPU are measured alone."""

    def __init__(self, env: dict | None = None, *, cpus: set[int] | None = None, workers: int = 1):
        self.port = free_port()
        self.cpus = cpus  # taskset: the server (and its workers) only on these CPUs
        self.workers = workers
        # Each bench server gets a data directory of its own: its calls must not land in the user's call
        # records, and a knowledge base embedded by another stack (the cloud bench embeds with the emulated
        # cloud embedding model) must not stop it from starting.
        self._data_dir = tempfile.TemporaryDirectory(prefix="voiceagent-bench-")
        self.env = {**os.environ, "DATA_DIR": self._data_dir.name, **(env or {})}
        self.process: subprocess.Popen | None = None
        # Logs go to a file: a pipe nobody reads fills up and then blocks the process writing to it.
        self._log = tempfile.TemporaryFile()

    async def __aenter__(self) -> ServerProcess:
        command = [sys.executable, "-m", "voiceagent.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--log-level", "WARNING", *(["--workers", str(self.workers)] if self.workers > 1 else [])]
        if self.cpus:
            command = ["taskset", "-c", ",".join(map(str, sorted(self.cpus))), *command]  # taskset execs: same pid
        self.process = subprocess.Popen(
            command,
            env=self.env, stdout=subprocess.DEVNULL, stderr=self._log,
        )
        try:
            await self._wait_until_healthy()
        except BaseException:
            await self.__aexit__()  # a server that never got ready must not outlive the bench
            raise
        return self

    async def _wait_until_healthy(self) -> None:
        health = "no answer"
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {_tail(self._log)}")
                try:
                    response = await client.get(f"http://127.0.0.1:{self.port}/health")
                    if response.status_code == 200:
                        return
                    health = response.text
                    if response.json().get("status") == "failed":  # start-up failed for good: say why now
                        break
                except (httpx.HTTPError, ValueError):
                    pass
                await asyncio.sleep(0.5)  # well within the server's per-IP request budget while models load
        raise RuntimeError(f"server did not become healthy: {health}")

    async def __aexit__(self, *exc):
        _stop(self.process)
        self._data_dir.cleanup()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/media"

    @property
    def pid(self) -> int:
        return self.process.pid


class EmulatorProcess:
    """`voiceagent emulate` in its own process, so the vendors' work does not count as the server's."""

    def __init__(self):
        self.process: subprocess.Popen | None = None

    async def start(self, timeout: float = 120.0) -> dict[str, str]:
        """Start the emulators; returns the environment that points a server at them."""
        env_file = Path(tempfile.mkdtemp()) / "emulators.env"
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-m", "voiceagent.cli", "emulate", "--env-file", str(env_file)],
                                        stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + timeout
        while not env_file.exists() or not env_file.read_text().strip():
            if self.process.poll() is not None:
                raise RuntimeError(f"emulators exited: {_tail(self._log)}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("emulators did not start in time")
            await asyncio.sleep(0.1)
        return dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)

    def stop(self) -> None:
        if self.process:
            _stop(self.process)


async def run_bench(turn_audio: list[CallerTurn], *, calls: int, concurrency: int, url: str | None = None,
                    pid: int | None = None, progress=None, auth_token: str | None = None,
                    stagger_secs: float = STAGGER_SECS, emulator_pid: int | None = None,
                    line_noise: np.ndarray | None = None) -> BenchFigures:
    """Run `calls` calls, `concurrency` at a time; measures latency at the caller side. The first `concurrency`
    calls start `stagger_secs` apart, as calls arrive on a phone line (not all callers speak in step)."""
    figures = BenchFigures(calls=calls, concurrency=concurrency)
    semaphore = asyncio.Semaphore(concurrency)
    peak = 0.0

    async def sample_memory():
        # The process tree (a server's workers) is looked up every few seconds: walking /proc costs the bench.
        nonlocal peak
        tree, looked_up = [], 0.0
        while pid:
            if time.monotonic() - looked_up > 5:
                tree, looked_up = process_tree(pid), time.monotonic()
            peak = max(peak, sum(_rss_or_zero(member) for member in tree))
            await asyncio.sleep(0.5)

    async def one_call(index: int):
        async with semaphore:
            if index < concurrency:
                await asyncio.sleep(index * stagger_secs)
            result = await twilio_call(url, turn_audio, caller_number=f"+1555010{index % 10}{index // 10 % 10}",
                                       auth_token=auth_token, keep_audio=False, line_noise=line_noise)
            if progress:
                progress()
            return result

    sampler = asyncio.create_task(sample_memory())
    cpu_before = _cpu_seconds(pid) if pid else 0.0
    callers_before = _own_cpu_seconds(os.getpid())
    emulators_before = _cpu_seconds(emulator_pid) if emulator_pid else 0.0
    started = time.monotonic()
    results = await asyncio.gather(*(one_call(i) for i in range(calls)))
    figures.wall_seconds = time.monotonic() - started
    figures.caller_cpu_seconds_per_call = (_own_cpu_seconds(os.getpid()) - callers_before) / max(1, calls)
    if emulator_pid:
        figures.emulator_cpu_seconds_per_call = (_cpu_seconds(emulator_pid) - emulators_before) / max(1, calls)
    sampler.cancel()
    greetings = []
    for result in results:
        figures.refused_calls += bool(result.refused)
        if result.ended is not None:
            figures.call_minutes += (result.ended - result.started) / 60
        if result.agent:
            greetings.append(round(result.agent[0].started - result.started, 3))
        figures.turns += len(result.turns)
        figures.unanswered_turns += sum(1 for t in result.turns if t.latency is None)
        figures.latencies.extend(round(x, 3) for x in result.latencies)
        figures.agent_frames += result.agent_frames
        figures.late_frames += result.late_frames
        figures.worst_underrun_ms = max([figures.worst_underrun_ms, *(1000 * gap for gap in result.underruns)])
    figures.latency = summarize(figures.latencies)
    figures.greeting = summarize(greetings)
    if pid:
        figures.server_rss_peak_mb = peak
        server_cpu = _cpu_seconds(pid) - cpu_before
        figures.server_cpu_seconds_per_call = server_cpu / max(1, calls)
        if figures.call_minutes:
            figures.server_cpu_seconds_per_call_minute = server_cpu / figures.call_minutes
    return figures


async def bench_url(turns: list[CallerTurn], url: str, *, calls: int, concurrency: int, progress=None,
                    auth_token: str | None = None, line_noise: np.ndarray | None = None) -> BenchFigures:
    """Measure a server that is already running (only what the caller side can see)."""
    measured = await run_bench(turns, calls=calls, concurrency=concurrency, url=url, progress=progress,
                               auth_token=auth_token, line_noise=line_noise)
    measured.profile, measured.stack = "given", url
    return measured


def write_figures(path: Path, figures: list[BenchFigures]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(f) for f in figures], indent=2))


async def scrape_metrics(port: int) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"http://127.0.0.1:{port}/metrics")).text


def _samples(text: str, name: str, label: str) -> dict[str, float]:
    """One Prometheus sample per value of `label`, from the server's /metrics text."""
    return {sample.labels[label]: sample.value for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name and label in sample.labels}


def speculative_answers(text: str, before: str = "") -> dict[str, int]:
    """Kept and discarded speculative answers, from the server's Prometheus counter (less what `before` had)."""
    name, label = "voiceagent_speculative_answers_total", "result"
    earlier = _samples(before, name, label)
    return {result: int(value - earlier.get(result, 0.0)) for result, value in _samples(text, name, label).items()}


def stage_means(text: str, before: str = "") -> dict[str, float]:
    """Mean seconds from end of caller speech to each stage, from the server's Prometheus histograms
    (only the observations made since `before` was scraped)."""
    sums = _samples(text, "voiceagent_stage_latency_seconds_sum", "stage")
    counts = _samples(text, "voiceagent_stage_latency_seconds_count", "stage")
    earlier_sums = _samples(before, "voiceagent_stage_latency_seconds_sum", "stage")
    earlier_counts = _samples(before, "voiceagent_stage_latency_seconds_count", "stage")
    means = {}
    for stage, total in sums.items():
        count = counts.get(stage, 0.0) - earlier_counts.get(stage, 0.0)
        if count > 0:
            means[stage] = round((total - earlier_sums.get(stage, 0.0)) / count, 3)
    return means


def bench_limits(concurrency: int) -> dict[str, str]:
    """The bench measures what happens beyond the production limits: they must not refuse its calls."""
    return {"MAX_CONCURRENT_CALLS": str(max(10, concurrency)), "RATE_LIMIT_PER_MINUTE": "100000",
            "CALLS_PER_NUMBER_PER_HOUR": "100000"}


async def bench_server(turns: list[CallerTurn], *, calls: int, concurrency: int, profile: str = "tuned",
                       env: dict | None = None, progress=None, emulator_pid: int | None = None,
                       cpus: set[int] | None = None, workers: int = 1,
                       profile_dir: Path | None = None, line_noise: np.ndarray | None = None) -> BenchFigures:
    """Start a server process, warm it with one call, then measure `calls` calls."""
    runs = await bench_levels(turns, [(calls, concurrency)], profile=profile, env=env, emulator_pid=emulator_pid,
                              cpus=cpus, workers=workers, progress=lambda _level: progress, profile_dir=profile_dir,
                              line_noise=line_noise)
    return runs[0]


async def bench_levels(turns: list[CallerTurn], levels: list[tuple[int, int]], *, profile: str = "tuned",
                       env: dict | None = None, emulator_pid: int | None = None, cpus: set[int] | None = None,
                       workers: int = 1, progress=None, stagger_secs: float = STAGGER_SECS,
                       profile_dir: Path | None = None, line_noise: np.ndarray | None = None) -> list[BenchFigures]:
    """One server process, warmed with one call, measured at each (calls, concurrency) of `levels` in turn
    (a ramp: the same process at 10, 20, 30... calls at a time). `progress(level)` gives a per-call callback."""
    most = max(concurrency for _, concurrency in levels)
    async with ServerProcess({**bench_limits(most), **(env or {}), "PIPELINE_PROFILE": profile},
                             cpus=cpus, workers=workers) as server:
        pin_harness(cpus, *([emulator_pid] if emulator_pid else []))
        start_rss = _tree_rss_mb(server.pid)
        token = server.env.get("TWILIO_AUTH_TOKEN")  # the server then checks signatures, as in production
        warm = await run_bench(turns, calls=1, concurrency=1, url=server.url, pid=server.pid, auth_token=token,
                               line_noise=line_noise)
        runs = []
        for calls, concurrency in levels:
            before = await scrape_metrics(server.port)  # the warm-up call and earlier levels are left out
            profiler = (ServerProfiler(server.pid, profile_dir / f"profile-{profile}-{concurrency}.txt")
                        if profile_dir else None)
            if profiler:
                profiler.start()
            try:
                measured = await run_bench(turns, calls=calls, concurrency=concurrency, url=server.url,
                                           pid=server.pid, progress=progress((calls, concurrency)) if progress else None,
                                           auth_token=token, emulator_pid=emulator_pid, line_noise=line_noise,
                                           stagger_secs=min(stagger_secs, RAMP_SPREAD_SECS / concurrency))
            finally:
                if profiler:
                    await asyncio.to_thread(profiler.stop)
            text = await scrape_metrics(server.port)
            measured.stage_means = stage_means(text, before)
            measured.speculative_answers = speculative_answers(text, before)
            measured.profile = profile
            measured.server_rss_start_mb = start_rss
            measured.server_rss_after_warmup_mb = warm.server_rss_peak_mb
            if concurrency > 1:
                measured.extra_rss_per_call_mb = max(
                    0.0, (measured.server_rss_peak_mb - warm.server_rss_peak_mb) / (concurrency - 1))
            runs.append(measured)
    return runs


def within_budget(run: BenchFigures, p95_budget: float) -> bool:
    """The issue's bar for a concurrency: p95 within budget, every turn answered, < 0.5% late outbound frames."""
    return (bool(run.latency) and run.latency["p95"] <= p95_budget and run.unanswered_turns == 0
            and run.refused_calls == 0 and run.late_frames <= LATE_FRAME_SHARE * max(1, run.agent_frames))


def largest_within_budget(runs: list[BenchFigures], p95_budget: float) -> int | None:
    """The largest concurrency of a ramp that held the budget (None when none did)."""
    held = [run.concurrency for run in runs if within_budget(run, p95_budget)]
    return max(held) if held else None


def plot_ramp(path: Path, runs: list[BenchFigures], p95_budget: float) -> None:
    """PNG: p50 and p95 latency and the share of late frames against concurrency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [run.concurrency for run in runs]
    fig, left = plt.subplots(figsize=(8, 4.5))
    left.plot(levels, [run.latency.get("median", float("nan")) for run in runs], "o-", label="p50")
    left.plot(levels, [run.latency.get("p95", float("nan")) for run in runs], "s-", label="p95")
    left.axhline(p95_budget, color="grey", linestyle="--", label=f"p95 budget {p95_budget:.1f} s")
    left.set_xlabel("calls at the same time")
    left.set_ylabel("response latency (s)")
    right = left.twinx()
    right.bar(levels, [100 * run.late_frames / max(1, run.agent_frames) for run in runs], alpha=0.25, color="C3",
              width=max(1, min(levels)) * 0.4, label="late frames %")
    right.set_ylabel("late outbound frames (%)")
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles=handles, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_figures(path: Path, runs: list[BenchFigures]) -> None:
    """PNG: latency distribution per profile, and the per-stage waterfall of a turn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from voiceagent.observability.latency import STAGES as stages

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for run in runs:
        if run.latencies:
            left.hist(run.latencies, bins=20, alpha=0.6,
                      label=f"{run.stack}/{run.profile}: median {run.latency['median']:.2f} s")
    left.set_xlabel("response latency (s): end of caller speech -> first agent audio")
    left.set_ylabel("turns")
    left.legend()
    for row, run in enumerate(runs):
        start = 0.0
        for index, stage in enumerate(stages):
            end = run.stage_means.get(stage)
            if end is None:
                continue
            right.barh(row, max(0.0, end - start), left=start, color=f"C{index}", label=stage if row == 0 else None)
            start = end
    right.set_yticks(range(len(runs)), [f"{run.stack}/{run.profile}" for run in runs])
    right.set_xlabel("seconds after the caller stopped speaking (mean)")
    right.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
