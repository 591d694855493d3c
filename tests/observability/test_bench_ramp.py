"""The per-core figures of `voiceagent bench`: CPU of a process tree, CPU lists, the ramp's budget, the profile's
read-out, and callers that encode their audio once (the ramp's figures themselves are in docs/performance.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from voiceagent.cli import app
from voiceagent.simulate.audio import FRAME_BYTES, mulaw_decode
from voiceagent.simulate.bench import (
    BenchFigures,
    _cpu_seconds,
    _own_cpu_seconds,
    cpu_list,
    largest_within_budget,
    within_budget,
)
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.profile import summarize_profile

BUSY_CHILD = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\ntime.sleep(30)"


def test_the_cpu_of_a_server_counts_its_worker_processes():
    # A parent that starts a child burning 0.6 s of CPU: the tree's CPU has it, the parent's own does not.
    parent = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {BUSY_CHILD!r}])"
                               "\ntime.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while _cpu_seconds(parent.pid) - _own_cpu_seconds(parent.pid) < 0.5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _cpu_seconds(parent.pid) - _own_cpu_seconds(parent.pid) >= 0.5
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
        parent.kill()
        parent.wait()


def test_cpu_lists_read_as_taskset_writes_them():
    available = list(range(os.cpu_count()))
    assert cpu_list(None) is None and cpu_list("") is None
    assert cpu_list(str(available[0])) == {available[0]}
    assert cpu_list(f"{available[0]}-{available[-1]}") == set(available)
    with pytest.raises(ValueError, match="not available"):
        cpu_list("4096")


def run_at(concurrency: int, p95: float, unanswered: int = 0, late: int = 0, frames: int = 10000) -> BenchFigures:
    return BenchFigures(calls=concurrency, concurrency=concurrency, turns=5 * concurrency, unanswered_turns=unanswered,
                        latency={"median": p95 / 2, "p95": p95}, agent_frames=frames, late_frames=late)


def test_the_largest_concurrency_within_budget_needs_p95_every_turn_and_few_late_frames():
    runs = [run_at(10, 0.9), run_at(20, 1.2), run_at(30, 1.4, late=60), run_at(50, 3.0)]
    assert within_budget(runs[1], 1.5) and not within_budget(runs[2], 1.5)  # 0.6% late frames
    assert largest_within_budget(runs, 1.5) == 20
    assert not within_budget(run_at(20, 1.0, unanswered=1), 1.5)
    assert within_budget(run_at(20, 1.0, late=49), 1.5)  # 0.49%
    assert largest_within_budget([run_at(10, 2.0)], 1.5) is None


def test_a_ramp_or_a_profile_refuses_a_running_server_it_cannot_measure():
    for options in (["--ramp", "10,20"], ["--profile"]):
        result = CliRunner().invoke(app, ["bench", *options, "--url", "ws://127.0.0.1:1/ws/media"])
        assert result.exit_code == 2, result.output
    result = CliRunner().invoke(app, ["bench", "--ramp", "ten"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "10,20,30,50" in re.sub(r"\x1b\[[0-9;]*m", "", result.output)


def test_the_profile_read_out_counts_own_and_inclusive_samples(tmp_path):
    raw = tmp_path / "profile.txt"
    raw.write_text(
        'process 12:"python -m voiceagent.cli serve";run (runners.py:190);_run (events.py:84);'
        "process_frame (pipecat/processors/frame_processor.py:812);dumps (json/__init__.py:231) 30\n"
        'process 12:"python -m voiceagent.cli serve";run (runners.py:190);_run (events.py:84);'
        "process_frame (pipecat/processors/frame_processor.py:812) 10\n"
        'process 12:"python -m voiceagent.cli serve";run (runners.py:190);select (selectors.py:468) 60\n')
    summary = summarize_profile(raw)
    assert summary.samples == 100
    assert summary.top("own", 2) == [("select (selectors.py)", 0.6), ("dumps (__init__.py)", 0.3)]
    assert dict(summary.top("total"))["process_frame (frame_processor.py)"] == 0.4
    assert dict(summary.top("total"))["run (runners.py)"] == 1.0
    assert not any(name.startswith("process ") for name, _ in summary.top("total", 50))


def test_a_caller_turn_is_encoded_once_and_plays_the_line_audio():
    audio = (np.sin(np.arange(FRAME_BYTES * 3 + 17) / 5.0) * 8000).astype(np.int16)
    turn = CallerTurn(audio=audio, text="hello")
    first = turn.payloads()
    assert turn.payloads() is first  # a bench's hundred callers share one encoding
    assert len(first) == 4 and all(len(pcm) == FRAME_BYTES for _, pcm in first)
    import base64

    decoded = np.concatenate([mulaw_decode(base64.b64decode(payload)) for payload, _ in first])
    assert np.array_equal(decoded, np.concatenate([pcm for _, pcm in first]))
    assert np.abs(decoded[: len(audio)].astype(int) - audio).max() < 400  # mu-law's step at this level
    assert not decoded[len(audio):].any()  # the last frame padded with silence
