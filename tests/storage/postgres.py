"""A throw-away PostgreSQL cluster for tests: initdb in a temp dir, a unix socket there, stopped and removed after.

Needs Debian's postgresql (binaries in /usr/lib/postgresql/15/bin, or PG_BIN); fails, never skips, without it.
PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user (or PG_USER).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
NEEDED = ("initdb", "pg_ctl", "createdb")
PREFIX = "voiceagent-pg-"
OWNER_FILE = "owner.pid"  # the test process; a cluster whose owner is gone is stopped by the next run


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """One running cluster; `new_database()` makes an empty database and returns its SQLAlchemy URL."""

    def __init__(self, directory: Path, port: int, run_as: str | None):
        self.directory, self.port, self._run_as = directory, port, run_as

    def run(self, tool: str, *arguments: str) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / tool), *arguments]
        if self._run_as:
            command = ["runuser", "-u", self._run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
        return result

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.run("createdb", "-h", str(self.directory), "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql+psycopg://postgres@/{name}?host={self.directory}&port={self.port}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_abandoned(run_as: str | None) -> None:
    """Clusters of test runs that were killed before their clean-up (their owner process is gone)."""
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((directory / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        if (directory / "data" / "postmaster.pid").exists():
            try:
                PostgresCluster(directory, 0, run_as).run("pg_ctl", "-D", str(directory / "data"), "-m", "immediate",
                                                          "-w", "stop")
            except RuntimeError:
                pass
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    missing = [tool for tool in NEEDED if not (PG_BIN / tool).exists()]
    if missing:
        raise RuntimeError(f"PostgreSQL binaries missing in {PG_BIN}: {', '.join(missing)}; install Debian's "
                           "postgresql package (or set PG_BIN)")
    run_as = os.environ.get("PG_USER", "postgres") if os.geteuid() == 0 else None
    _stop_abandoned(run_as)
    directory = Path(tempfile.mkdtemp(prefix=PREFIX))  # /tmp: reachable by the cluster's user
    (directory / OWNER_FILE).write_text(str(os.getpid()))
    if run_as:
        account = pwd.getpwnam(run_as)
        os.chown(directory, account.pw_uid, account.pw_gid)
    cluster = PostgresCluster(directory, _free_port(), run_as)
    data = directory / "data"
    try:
        cluster.run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        # Only the unix socket in the temp dir: nothing listens on TCP, fsync off for speed (a throw-away cluster).
        options = f"-p {cluster.port} -k {directory} -c listen_addresses='' -c fsync=off"
        cluster.run("pg_ctl", "-D", str(data), "-o", options, "-l", str(directory / "server.log"), "-w", "start")
        try:
            yield cluster
        finally:
            cluster.run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
