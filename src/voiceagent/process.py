"""Process-wide settings applied once at start-up: the allocator before models load, the parent-death signal."""

from __future__ import annotations

import ctypes
import ctypes.util

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
