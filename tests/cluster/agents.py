"""Several `voiceagent serve` processes sharing PostgreSQL, Redis, a Chroma server and their secrets.

Each instance is a real server process (embedded stack) with its own DATA_DIR; their shared secrets come from the
Secret Manager emulator (SECRETS_BACKEND=gcp), as on the GCP deployment.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.cluster.services import ServiceError, free_port, http_ok, start_process, stop_group, wait_until
from voiceagent.emulators.gcp_secrets import SecretManagerEmulator, serving_on_a_thread

SECRETS = {"twilio-auth-token": "cluster-twilio-token-0123456789", "stream-token-secret": "cluster-stream-secret-0123",
           "metrics-token": "cluster-metrics-token"}


@dataclass
class Agent:
    """One server process and where to reach it."""

    index: int
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: a crashed machine, not a drain."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def active_calls(self) -> int:
        """Calls in progress, from /health (0 when the instance is gone)."""
        try:
            return int(httpx.get(f"{self.url}/health", timeout=3).json().get("active_calls", 0))
        except (httpx.HTTPError, ValueError):
            return 0

    def calls_total(self) -> float:
        """Calls this instance has finished, from its /metrics (behind METRICS_TOKEN)."""
        text = httpx.get(f"{self.url}/metrics", timeout=5,
                         headers={"Authorization": f"Bearer {SECRETS['metrics-token']}"}).text
        return sum(float(value) for value in re.findall(r"^voiceagent_calls_total\{[^}]*\} (\S+)$", text, re.M))


@contextmanager
def secret_manager() -> Iterator[tuple[SecretManagerEmulator, str]]:
    """The Secret Manager emulator on its own thread, holding the secrets every instance shares."""
    emulator = SecretManagerEmulator()
    for name, value in SECRETS.items():
        emulator.add_version(name, value)
    with serving_on_a_thread(emulator) as url:
        yield emulator, url


@contextmanager
def agents(directory: Path, count: int, shared_env: dict[str, str], start_timeout: float = 300.0) -> Iterator[list[Agent]]:
    """`count` instances started together; yields once every /health says ok (start-up loads the models)."""
    started: list[Agent] = []
    try:
        for index in range(count):
            data = directory / f"agent{index}"
            data.mkdir()
            port = free_port()
            env = {**os.environ, **shared_env, "DATA_DIR": str(data), "HOST": "127.0.0.1", "PORT": str(port)}
            log = data / "serve.log"
            process = start_process([sys.executable, "-m", "voiceagent.cli", "serve"], log, env=env, cwd=data)
            started.append(Agent(index, port, process, log))
        for agent in started:
            wait_until(http_ok(f"{agent.url}/health"), agent.process, agent.log, f"voiceagent serve #{agent.index}",
                       timeout=start_timeout)
        yield started
    finally:
        for agent in started:
            stop_group(agent.process, timeout=30)


def log_tail(agent: Agent, chars: int = 1200) -> str:
    try:
        return agent.log.read_text(errors="replace")[-chars:]
    except OSError as error:
        raise ServiceError(f"no log for agent {agent.index}") from error
