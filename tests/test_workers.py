"""`voiceagent serve --workers 2`: one port, two processes; tokens and limits shared through a private redis-server;
a worker that dies is replaced; SIGTERM drains and leaves no process behind; no Redis at all is a clear error."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.server.test_stream_tokens_live import open_stream
from voiceagent.process import child_processes
from voiceagent.simulate.bench import ServerProcess
from voiceagent.simulate.webhook import answer_call
from voiceagent.workers import worker_pids

AUTH_TOKEN = "workers-test-auth-token-0123456789"
ENV = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_ACCOUNT_SID": "", "DRAIN_SECS": "3", "SHUTDOWN_GRACE_SECS": "5",
       "RATE_LIMIT_PER_MINUTE": "10000"}


def _socket_inodes(server_port: int, client_ports: set[int]) -> set[str]:
    """Inodes of the server side of the connections from `client_ports` (from /proc/net/tcp)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, remote_port = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == server_port and remote_port in client_ports:
                inodes.add(fields[9])
    return inodes


def _holders(pids: list[int], inodes: set[str]) -> set[int]:
    """Which of `pids` hold one of these sockets open."""
    found = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                found.add(pid)
    return found


async def workers_answering(port: int, workers: list[int], connections: int = 16) -> set[int]:
    """Open `connections` connections at once and ask /health on each (kept open); the workers that accepted them."""
    async def ask() -> tuple[asyncio.StreamWriter, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return writer, await reader.readline()

    opened = await asyncio.gather(*(ask() for _ in range(connections)))
    try:
        assert all(b" 200 " in status for _, status in opened), [status for _, status in opened]
        client_ports = {writer.get_extra_info("sockname")[1] for writer, _ in opened}
        return _holders(workers, _socket_inodes(port, client_ports))
    finally:
        for writer, _ in opened:
            writer.close()


async def scraped_values(port: int, series: str, scrapes: int = 8) -> set[float]:
    values = set()
    for _ in range(scrapes):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:  # a new connection each time
            text = (await client.get("/metrics")).text
        values |= {float(line.split()[-1]) for line in text.splitlines() if line.startswith(series + " ")}
    return values


def _environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


async def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.realtime
@pytest.mark.isolated
async def test_two_workers_share_the_port_and_the_stream_tokens_and_stop_together_on_sigterm():
    async with ServerProcess(ENV, workers=2) as server:
        children = child_processes(server.pid)
        workers = worker_pids(server.pid)
        assert len(workers) == 2, children
        redis = [pid for pid, command in children.items() if "redis-server" in command]
        assert len(redis) == 1 and "unixsocket" in children[redis[0]], children
        # /health answered once one worker was up; the other may still be loading its models. The kernel hands
        # each connection to whichever worker accepts first.
        answering, deadline = set(), time.monotonic() + 180
        while answering != set(workers) and time.monotonic() < deadline:
            answering |= await workers_answering(server.port, workers)
            await asyncio.sleep(0.5)
        assert answering == set(workers)
        # A token minted by one worker's webhook opens its stream once, on whichever worker takes the stream.
        for _ in range(4):
            call_sid = "CA" + uuid.uuid4().hex
            answer = await answer_call(server.url, call_sid=call_sid, caller_number="+15551234567",
                                       auth_token=AUTH_TOKEN)
            assert await open_stream(answer.stream_url, answer.parameters, call_sid, AUTH_TOKEN) is None
            assert await open_stream(answer.stream_url, answer.parameters, call_sid, AUTH_TOKEN) == 1008
        # Whichever worker answers a scrape reports the whole server: the four replays were refused by whichever
        # workers took them, and every scrape (over fresh connections, so both workers answer some) counts four.
        assert await scraped_values(server.port, 'voiceagent_rejected_requests_total{reason="stream_token"}') == {4.0}
        folders = {_environ(pid).get("PROMETHEUS_MULTIPROC_DIR") for pid in workers}
        assert len(folders) == 1 and Path(folders.pop()).is_dir()  # one private metrics folder, removed at exit
        server.process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(server.process.wait, 60)
        # multiprocessing's resource tracker leaves on its own once the parent's end of its pipe is closed
        await _wait_for(lambda: all(_gone(pid) for pid in children), 5, f"no process left of {children}")
    assert exit_code == 0
    assert not list(Path(tempfile.gettempdir()).glob(f"voiceagent-metrics-*/*_{workers[0]}.db"))


@pytest.mark.realtime
@pytest.mark.isolated
async def test_a_killed_worker_is_replaced_and_the_port_keeps_answering():
    async with ServerProcess(ENV, workers=2) as server:
        first, second = worker_pids(server.pid)
        os.kill(first, signal.SIGKILL)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            for _ in range(5):
                assert (await client.get("/health")).status_code == 200  # the other worker
                await asyncio.sleep(0.2)
        workers = await _wait_for(lambda: (pids := worker_pids(server.pid)) and len(pids) == 2 and pids, 20,
                                  "a replacement worker")
        replacement = next(pid for pid in workers if pid != second)
        assert replacement != first
        # Once its models are loaded, the replacement takes connections like the first one did.
        deadline = time.monotonic() + 180
        answering = set()
        while replacement not in answering and time.monotonic() < deadline:
            answering = await workers_answering(server.port, workers)
            await asyncio.sleep(0.5)
        assert replacement in answering
        children = child_processes(server.pid)
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.process.wait, 60) == 0
        await _wait_for(lambda: all(_gone(pid) for pid in children), 5, f"no process left of {children}")


@pytest.mark.slow
def test_without_redis_url_or_redis_server_several_workers_refuse_to_start(tmp_path):
    python_only = tmp_path / "bin"
    python_only.mkdir()
    (python_only / "python").symlink_to(sys.executable)
    assert shutil.which("redis-server", path=str(python_only)) is None
    env = {**os.environ, **ENV, "DATA_DIR": str(tmp_path), "PATH": str(python_only)}
    done = subprocess.run([sys.executable, "-m", "voiceagent.cli", "serve", "--host", "127.0.0.1", "--port", "1",
                           "--workers", "2"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "set REDIS_URL, or install redis-server" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
