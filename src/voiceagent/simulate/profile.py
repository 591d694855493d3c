"""`voiceagent bench --profile`: sample the server with py-spy while the measured calls run, and read the
samples back as the functions that cost the most (own time, and time including what they call)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SAMPLES_PER_SECOND = 100
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


class ProfilerMissing(RuntimeError):
    """py-spy is not installed."""


def py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"  # the project's .venv/bin, whatever PATH says
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise ProfilerMissing("--profile needs py-spy: `.venv/bin/pip install py-spy` (it samples the running "
                              "server from outside; it is not a dependency of the agent)")
    return found


class ServerProfiler:
    """py-spy recording one process (and its worker processes) in collapsed-stack form until stopped."""

    def __init__(self, pid: int, output: Path):
        self.pid = pid
        self.output = output
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [py_spy(), "record", "--pid", str(self.pid), "--rate", str(SAMPLES_PER_SECOND), "--format", "raw",
             "--output", str(self.output), "--subprocesses", "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        """py-spy writes its file when interrupted."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class ProfileSummary:
    """Samples per function: `own` where the sample was taken, `total` where the function was on the stack."""

    samples: int = 0
    own: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)

    def top(self, which: str, count: int = 15) -> list[tuple[str, float]]:
        """The `count` most expensive functions by `own` or `total`, with their share of all samples."""
        counter = self.own if which == "own" else self.total
        return [(name, samples / max(1, self.samples)) for name, samples in counter.most_common(count)]


def _short(frame: str) -> str:
    """`process_frame (pipecat/processors/frame_processor.py:812)` -> `process_frame (frame_processor.py)`."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{match['function']} ({Path(match['file']).name})"


def summarize_profile(path: Path) -> ProfileSummary:
    """Read py-spy's collapsed stacks (`frame;frame;... count` per line, outermost first)."""
    summary = ProfileSummary()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        # --subprocesses puts the process first (and py-spy may name the thread): not functions
        frames = [_short(frame) for frame in stack.split(";")
                  if frame and not frame.startswith(("process ", "thread "))]
        if not frames:
            continue
        summary.samples += samples
        summary.own[frames[-1]] += samples
        for name in set(frames):
            summary.total[name] += samples
    return summary
