"""`voiceagent bench --soak N`: N calls one after another against a fresh server process, to see whether its
memory keeps growing call after call (the target: RSS after the last call within 5% of RSS after call 10)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from voiceagent.process import rss_mb
from voiceagent.simulate.bench import ServerProcess, _cpu_seconds, bench_limits, run_bench
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import summarize

REFERENCE_CALL = 10  # memory after this call is the baseline: the first calls fill caches and the allocator
TARGET_GROWTH = 0.05
SOAK_SCENARIO = ["How much is the Pro plan?", "Okay, thanks. Goodbye."]  # a short FAQ call


@dataclass
class SoakFigures:
    """RSS of the server after each call (MB, index 0 = after call 1), CPU and latency over the whole soak."""

    calls: int
    rss_start_mb: float = 0.0
    rss_after_call_mb: list[float] = field(default_factory=list)
    cpu_seconds_per_call: float = 0.0
    turns: int = 0
    unanswered_turns: int = 0
    refused_calls: int = 0
    latency: dict = field(default_factory=dict)
    wall_seconds: float = 0.0

    @property
    def reference_call(self) -> int:
        return min(REFERENCE_CALL, len(self.rss_after_call_mb))

    @property
    def rss_reference_mb(self) -> float:
        return self.rss_after_call_mb[self.reference_call - 1]

    @property
    def rss_last_mb(self) -> float:
        return self.rss_after_call_mb[-1]

    @property
    def rss_ratio(self) -> float:
        """RSS after the last call over RSS after call 10 (or the last call, for shorter soaks)."""
        return rss_ratio(self.rss_after_call_mb)

    @property
    def within_target(self) -> bool:
        return self.rss_ratio <= 1 + TARGET_GROWTH


def rss_ratio(rss_after_call_mb: list[float], reference_call: int = REFERENCE_CALL) -> float:
    """RSS after the last call / RSS after call `reference_call` (the last call, when there were fewer)."""
    if not rss_after_call_mb:
        raise ValueError("no call was measured")
    reference = rss_after_call_mb[min(reference_call, len(rss_after_call_mb)) - 1]
    return rss_after_call_mb[-1] / reference


async def _settled(client: httpx.AsyncClient, timeout: float = 30.0) -> None:
    """Wait until the server has finished the call (its record saved, its pipeline gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await client.get("/health")).json().get("active_calls") == 0:
                return
        except (httpx.HTTPError, ValueError):
            pass
        await asyncio.sleep(0.2)


async def soak_server(turns: list[CallerTurn], *, calls: int, env: dict | None = None,
                      progress=None) -> SoakFigures:
    """Start a server process and place `calls` calls one after another, sampling its RSS after each."""
    if calls < 1:
        raise ValueError("a soak needs at least one call")
    figures = SoakFigures(calls=calls)
    latencies: list[float] = []
    async with ServerProcess({**bench_limits(1), **(env or {})}) as server, \
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        figures.rss_start_mb = rss_mb(server.pid)
        token = server.env.get("TWILIO_AUTH_TOKEN")
        cpu_before, started = _cpu_seconds(server.pid), time.monotonic()
        for _ in range(calls):
            call = await run_bench(turns, calls=1, concurrency=1, url=server.url, auth_token=token)
            await _settled(client)
            figures.rss_after_call_mb.append(round(rss_mb(server.pid), 1))
            figures.turns += call.turns
            figures.unanswered_turns += call.unanswered_turns
            figures.refused_calls += call.refused_calls
            latencies.extend(call.latencies)
            if progress:
                progress()
        figures.cpu_seconds_per_call = (_cpu_seconds(server.pid) - cpu_before) / calls
        figures.wall_seconds = time.monotonic() - started
    figures.latency = summarize(latencies)
    return figures
