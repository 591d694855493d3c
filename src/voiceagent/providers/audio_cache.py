"""Synthesized audio kept for text that is spoken word for word again and again, shared by every call."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class AudioCache:
    """Least recently used entries go once the audio held passes `limit_bytes`. Thread-safe: the embedded voice
    fills it from worker threads, the cloud voice from the event loop."""

    def __init__(self, limit_bytes: int = 16 << 20):
        self.limit_bytes = limit_bytes
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value, size: int) -> None:
        """Keep `value` (of `size` audio bytes); an entry larger than the whole cache is not kept."""
        if size > self.limit_bytes:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self.bytes += size
            while self.bytes > self.limit_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.bytes -= evicted

    def keys(self) -> list:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
