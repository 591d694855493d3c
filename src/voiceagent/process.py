"""Process-wide settings applied once at start-up (the allocator before models load, the parent-death signal), the
allocator's trim after each call, and what /proc tells of processes (the bench's CPU and memory, the workers)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_memory_allocator(trim_bytes: int = 1 << 20, arena_max: int = 2) -> bool:
    """Make glibc hand freed native memory back to the OS.

    Whisper, Piper and ONNX free large buffers after every utterance; glibc's default dynamic
    thresholds keep them, and RSS climbs by tens of MB per call. Returns False off glibc.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return all(
            libc.mallopt(option, value) == 1
            for option, value in ((_M_TRIM_THRESHOLD, trim_bytes), (_M_MMAP_THRESHOLD, trim_bytes), (_M_ARENA_MAX, arena_max))
        )
    except (OSError, AttributeError):
        return False


def release_free_memory() -> bool:
    """Return the free pages inside glibc's heaps to the OS (malloc_trim): a call frees many small buffers
    (frames, JSON, transcripts) scattered among live ones, which the trim thresholds alone never give back.
    Returns False off glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        ctypes.CDLL(name).malloc_trim(0)
        return True
    except (OSError, AttributeError):
        return False


_PR_SET_PDEATHSIG = 1


def die_with_parent(signal_number: int) -> bool:
    """Ask Linux to send `signal_number` to this process when its parent dies, so that a supervisor killed outright
    leaves no worker or helper behind. Returns False where prctl is missing (not Linux)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal_number) == 0
    except (OSError, AttributeError):
        return False


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (index 1 is the parent pid, 11-14 the CPU ticks)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def parent_pids() -> dict[int, int]:
    """pid -> parent pid of every live process (Linux)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(stat_fields(int(entry))[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    return parents


def process_tree(pid: int) -> list[int]:
    """`pid` and every live descendant (a server's --workers, the helpers it started)."""
    children: dict[int, list[int]] = {}
    for child, parent in parent_pids().items():
        children.setdefault(parent, []).append(child)
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def child_processes(parent_pid: int) -> dict[int, str]:
    """pid -> command line of each child of `parent_pid`."""
    found = {}
    for pid, parent in parent_pids().items():
        if parent == parent_pid:
            try:
                found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
    return found
