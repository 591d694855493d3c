"""Throw-away servers on loopback ports for tests and the cluster check: Redis, a Chroma server, nginx.

Each is a context manager that starts the real binary in its own process group inside a temp dir, waits until it
answers, and stops it (the whole group) when the block ends. A missing binary is an error, never a skip.
PostgreSQL comes from tests/storage/postgres.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent


class ServiceError(RuntimeError):
    """A server did not start; the message holds the end of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def binary(name: str, hint: str, search: tuple[Path, ...] = ()) -> str:
    """The path of a server binary, or an error that says which package to install."""
    for folder in search:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise ServiceError(f"{name} is not installed: {hint}")
    return found


def stop_group(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it if it does not end in time."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def start_process(command: list[str], log: Path, env: dict[str, str] | None = None,
                  cwd: Path | None = None) -> subprocess.Popen:
    """Start `command` in a new process group (so everything it starts can be stopped), output to `log`."""
    with open(log, "ab") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, log: Path, what: str,
               timeout: float = 60.0) -> None:
    """Poll `ready` until it is true; fail with the log's tail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            state = f"exited with {process.returncode}" if process.poll() is not None else "timed out"
            raise ServiceError(f"{what} did not start ({state}):\n{tail}")
        time.sleep(0.1)


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
    return check


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """redis-server without persistence; yields its redis:// URL."""
    import redis

    port = free_port()
    log = directory / "redis.log"
    process = start_process([binary("redis-server", "apt-get install redis-server"), "--port", str(port),
                             "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", "--appendonly", "no"], log)
    url = f"redis://127.0.0.1:{port}/0"

    def pings() -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
        except redis.RedisError:
            return False
    try:
        wait_until(pings, process, log, "redis-server")
        yield url
    finally:
        stop_group(process)


@contextmanager
def chroma_server(directory: Path) -> Iterator[str]:
    """`chroma run` (the chromadb package's server) on a fresh path; yields its http:// URL."""
    port = free_port()
    log = directory / "chroma.log"
    chroma = binary("chroma", "pip install chromadb (it ships the `chroma` CLI)", (VENV_BIN,))
    process = start_process([chroma, "run", "--path", str(directory / "chroma"), "--host", "127.0.0.1",
                             "--port", str(port)], log, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(http_ok(f"{url}/api/v2/heartbeat"), process, log, "chroma run")
        yield url
    finally:
        stop_group(process)


NGINX_CONF = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream agents {{
        # A call is one long WebSocket: the instance with the fewest open connections takes the next one.
        least_conn;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://agents;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            # A dead instance: the webhook or the WebSocket upgrade is retried on the next one.
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


@contextmanager
def nginx_balancer(directory: Path, upstream_ports: list[int]) -> Iterator[str]:
    """nginx as a WebSocket-aware load balancer over `upstream_ports`; yields its http:// URL."""
    port = free_port()
    conf = directory / "nginx.conf"
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in upstream_ports)
    conf.write_text(NGINX_CONF.format(dir=directory, port=port, servers=servers))
    log = directory / "nginx-error.log"
    nginx = binary("nginx", "apt-get install nginx", (Path("/usr/sbin"),))
    process = start_process([nginx, "-c", str(conf), "-p", str(directory), "-g", "daemon off;"], directory / "nginx.out")

    def listening() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0
    try:
        wait_until(listening, process, log, "nginx", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(process)
