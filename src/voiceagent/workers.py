"""`voiceagent serve --workers N`: N server processes taking calls from one listening socket.

The parent binds the port once and spawns the workers; the kernel hands each new connection to one of them. Each
worker is the single-process server (it loads the models once, drains on SIGTERM). What calls have in common lives
outside the workers: the database and the knowledge base in DATA_DIR, and the used stream tokens, rate limits and
call slots in Redis (REDIS_URL, else a private redis-server on a unix socket, started for this run only).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

from loguru import logger
from pydantic import SecretStr

from voiceagent.access.tokens import StreamTokens
from voiceagent.config import Settings
from voiceagent.observability.metrics import MULTIPROCESS_DIR_ENV, worker_gone
from voiceagent.process import child_processes, die_with_parent

STOP_MARGIN_SECS = 10.0  # past DRAIN_SECS + SHUTDOWN_GRACE_SECS, a worker still running is killed
QUICK_DEATH_SECS = 30.0  # a worker that dies sooner after its start is restarted after a growing pause
MAX_RESTART_PAUSE_SECS = 30.0
REDIS_START_SECS = 10.0
LISTEN_BACKLOG = 2048  # uvicorn's default


class WorkersCannotStart(SystemExit):
    """Start-up stops: the message says why and what to do."""


@dataclass(frozen=True)
class SharedState:
    """Settings every worker gets over its own (Redis, the stream-token secret), and a line saying where it lives."""

    overrides: dict
    description: str


class PrivateRedis:
    """A redis-server for this run only: a unix socket in a private temporary folder (no TCP port), nothing saved."""

    def __init__(self, executable: str):
        self._folder = tempfile.mkdtemp(prefix="voiceagent-redis-")  # mode 0700
        self.path = os.path.join(self._folder, "redis.sock")
        self._log = open(os.path.join(self._folder, "redis.log"), "w+b")
        self.process = subprocess.Popen(
            [executable, "--port", "0", "--unixsocket", self.path, "--unixsocketperm", "700", "--save", "",
             "--appendonly", "no", "--dir", self._folder, "--logfile", ""],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C in the terminal must not stop it while the workers drain their calls.
            start_new_session=True, preexec_fn=partial(die_with_parent, signal.SIGTERM))

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def wait_until_ready(self) -> None:
        from redis import Redis
        from redis.exceptions import RedisError

        deadline = time.monotonic() + REDIS_START_SECS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if os.path.exists(self.path):
                try:
                    with Redis(unix_socket_path=self.path, socket_timeout=1) as client:
                        if client.ping():
                            return
                except RedisError:
                    pass
            time.sleep(0.05)
        self._log.seek(0)
        tail = self._log.read().decode(errors="replace").strip().splitlines()[-3:]
        raise WorkersCannotStart("redis-server did not start for the workers' shared state"
                                 + (": " + " / ".join(tail) if tail else "") + "; or set REDIS_URL")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        shutil.rmtree(self._folder, ignore_errors=True)


@contextmanager
def shared_state(settings: Settings) -> Iterator[SharedState]:
    """What the workers must share: Redis (REDIS_URL, else a private redis-server until the block ends) and one
    stream-token secret (a token minted by one worker's webhook is redeemed by whichever worker takes the stream)."""
    overrides: dict = {}
    redis: PrivateRedis | None = None
    if settings.stream_token_secret is None:
        overrides["stream_token_secret"] = SecretStr(StreamTokens.random_secret())
    if settings.redis_url:
        where = "Redis at REDIS_URL"
    else:
        executable = shutil.which("redis-server")
        if executable is None:
            raise WorkersCannotStart("--workers above 1 needs Redis for the limits, call slots and stream tokens the "
                                     "workers share: set REDIS_URL, or install redis-server (apt install redis-server)")
        redis = PrivateRedis(executable)
    try:
        if redis:
            redis.wait_until_ready()
            overrides["redis_url"] = redis.url
            where = "a private redis-server on a unix socket (this run only)"
        database = "DATABASE_URL" if settings.database_url else str(settings.data_dir / "voiceagent.db")
        with metrics_folder():
            yield SharedState(overrides, f"limits, call slots and used stream tokens in {where}; database {database}")
    finally:
        if redis:
            redis.stop()


@contextmanager
def metrics_folder() -> Iterator[str]:
    """A private folder for the workers' metric values (prometheus_client's multiprocess mode), named in the
    environment the spawned workers inherit, so /metrics on any worker shows the whole server; removed at exit."""
    folder = tempfile.mkdtemp(prefix="voiceagent-metrics-")
    previous = os.environ.get(MULTIPROCESS_DIR_ENV)
    os.environ[MULTIPROCESS_DIR_ENV] = folder
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR_ENV, None)
        else:
            os.environ[MULTIPROCESS_DIR_ENV] = previous
        shutil.rmtree(folder, ignore_errors=True)


def listen(host: str, port: int) -> socket.socket:
    """The one listening socket every worker accepts from."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)  # SO_REUSEADDR
    except OSError as error:
        raise WorkersCannotStart(f"cannot listen on {host}:{port}: {error.strerror}") from None
    listener.set_inheritable(True)
    return listener


def _run_worker(listener: socket.socket, host: str, port: int, overrides: dict, log_level: str) -> None:
    """One worker process: the single-process server on the inherited socket, with the run's shared settings."""
    die_with_parent(signal.SIGTERM)  # the supervisor killed outright: this worker drains and goes
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        return  # the supervisor died before the line above
    os.setpgrp()  # Ctrl-C in the terminal reaches the supervisor only, which passes it on once
    from voiceagent.observability.logging import configure_logging
    from voiceagent.providers.gcp_secrets import GcpSecretSource
    from voiceagent.secrets import load_settings_with_secrets
    from voiceagent.server import create_app, make_server

    configure_logging(log_level)
    settings, secrets = load_settings_with_secrets(GcpSecretSource.for_settings)
    for name, value in overrides.items():
        setattr(settings, name, value)
    if secrets:
        secrets.start()
    try:
        make_server(create_app(settings), host, port).run(sockets=[listener])
    finally:
        if secrets:
            secrets.stop()


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class _Worker:
    process: BaseProcess
    started: float


class WorkerPool:
    """N workers on one socket: a worker that dies is restarted; SIGTERM or SIGINT drains them all, then stops."""

    def __init__(self, count: int, listener: socket.socket, host: str, port: int, overrides: dict, log_level: str,
                 stop_secs: float):
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or models forked
        self._args = (listener, host, port, overrides, log_level)
        self._stop_secs = stop_secs
        self._workers: list[_Worker | None] = [None] * count
        self._restart_at = [0.0] * count
        self._quick_deaths = [0] * count
        self._signals: list[int] = []

    def run(self) -> int:
        """Serve until a signal, then stop every worker; 0 once all stopped in time, 1 if some had to be killed."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for slot in range(len(self._workers)):
                self._start(slot)
            while not self._signals:
                self._watch()
            return self._stop()
        finally:
            self._kill_all()  # after an error in here too: no worker outlives its supervisor
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, sig: int, _frame) -> None:
        self._signals.append(sig)

    def _alive(self) -> list[_Worker]:
        return [worker for worker in self._workers if worker and worker.process.is_alive()]

    def _start(self, slot: int) -> None:
        process = self._context.Process(target=_run_worker, args=self._args, name=f"voiceagent-worker-{slot + 1}")
        process.start()
        self._workers[slot] = _Worker(process, time.monotonic())
        logger.info(f"Worker {slot + 1} started (pid {process.pid})")

    def _watch(self) -> None:
        wait([worker.process.sentinel for worker in self._alive()], timeout=0.5)
        now = time.monotonic()
        for slot, worker in enumerate(self._workers):
            if worker and not worker.process.is_alive():
                self._workers[slot] = None
                worker_gone(worker.process.pid)
                quick = now - worker.started < QUICK_DEATH_SECS
                self._quick_deaths[slot] = self._quick_deaths[slot] + 1 if quick else 0
                pause = min(MAX_RESTART_PAUSE_SECS, 2 ** self._quick_deaths[slot] - 1)  # 0, or 1, 3, 7, 15, 30 s
                self._restart_at[slot] = now + pause
                logger.error(f"Worker {slot + 1} (pid {worker.process.pid}) {_describe_exit(worker.process.exitcode)}"
                             f"; restarting it{f' in {pause:.0f} s' if pause else ''}")
            if self._workers[slot] is None and now >= self._restart_at[slot] and not self._signals:
                self._start(slot)

    def _stop(self) -> int:
        deadline = time.monotonic() + self._stop_secs
        forwarded = 0
        while alive := self._alive():
            if len(self._signals) > forwarded:
                # The first signal drains each worker's calls; another one makes them shut down at once.
                logger.info(f"Signal {signal.Signals(self._signals[-1]).name}: "
                            f"{'draining' if not forwarded else 'stopping'} {len(alive)} worker(s)")
                forwarded = len(self._signals)
                for worker in alive:
                    os.kill(worker.process.pid, signal.SIGTERM)
            if time.monotonic() >= deadline:
                logger.error(f"{len(alive)} worker(s) still running {self._stop_secs:.0f} s after the signal: killed")
                return 1
            wait([worker.process.sentinel for worker in alive], timeout=0.5)
        return 0

    def _kill_all(self) -> None:
        for worker in self._alive():
            worker.process.kill()
            worker.process.join(5)


def run_workers(settings: Settings, host: str, port: int, count: int, log_level: str, announce=None) -> int:
    """Serve on host:port with `count` worker processes until SIGTERM or SIGINT; the process's exit code."""
    with shared_state(settings) as shared, listen(host, port) as listener:
        if announce:
            announce(f"{count} worker processes on one socket; {shared.description}")
        stop_secs = settings.drain_secs + settings.shutdown_grace_secs + STOP_MARGIN_SECS
        return WorkerPool(count, listener, host, port, shared.overrides, log_level, stop_secs).run()


def worker_pids(supervisor_pid: int) -> list[int]:
    """The worker processes of a `serve --workers` supervisor (not its redis-server or multiprocessing helpers)."""
    return sorted(pid for pid, command in child_processes(supervisor_pid).items() if "spawn_main" in command)
