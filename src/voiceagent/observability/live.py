"""The records of the calls running in one app, by call id, for whoever watches them live (the softphone page).

A call only registers its record and removes it at the end (two dict operations): a watcher reads the record
on its own schedule, so a call nobody watches pays nothing more.
"""

from __future__ import annotations

import asyncio
import time

from voiceagent.shared.record import CallRecord


def call_id_of(record: CallRecord) -> str:
    return record.call_sid or record.stream_sid or ""


class LiveCalls:
    """Running calls of this app; a record leaves once the call has ended and its row is saved."""

    def __init__(self) -> None:
        self._records: dict[str, CallRecord] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: CallRecord) -> None:
        self._records[call_id_of(record)] = record

    def remove(self, record: CallRecord) -> None:
        if self._records.get(call_id_of(record)) is record:
            del self._records[call_id_of(record)]

    def get(self, call_id: str) -> CallRecord | None:
        return self._records.get(call_id)

    def is_running(self, record: CallRecord) -> bool:
        return self._records.get(call_id_of(record)) is record

    async def wait_for(self, call_id: str, timeout_secs: float, poll_secs: float = 0.1) -> CallRecord | None:
        """The record once the call has started (its media stream's `start`), or None after `timeout_secs`."""
        deadline = time.monotonic() + timeout_secs
        while (record := self._records.get(call_id)) is None and time.monotonic() < deadline:
            await asyncio.sleep(poll_secs)
        return record
