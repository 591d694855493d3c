"""Graceful drain for deploys: stop taking calls, let the running ones finish, then close the rest politely."""

from __future__ import annotations

import asyncio
import time

from loguru import logger


class Drain:
    """The drain's state: `draining` once it began; `closing` is set when remaining calls must say goodbye."""

    def __init__(self, drain_secs: float, grace_secs: float) -> None:
        self.drain_secs = drain_secs
        self.grace_secs = grace_secs
        self.draining = False
        self.closing = asyncio.Event()
        self.finished = asyncio.Event()

    async def run(self, calls: set[asyncio.Task]) -> None:
        """Wait up to `drain_secs` for `calls` to end, then up to `grace_secs` for the rest to close politely."""
        if self.draining:
            await self.finished.wait()
            return
        self.draining = True
        logger.info(f"Draining: {len(calls)} call(s) in progress may go on for up to {self.drain_secs:.0f} s; "
                    "new calls hear the busy line")
        await self._wait(calls, self.drain_secs)
        if calls:
            logger.info(f"Drain time is up: closing {len(calls)} call(s) politely "
                        f"(up to {self.grace_secs:.0f} s to end and save their records)")
            self.closing.set()
            await self._wait(calls, self.grace_secs)
        if calls:
            logger.warning(f"{len(calls)} call(s) did not end within the grace period; they will be cancelled")
        self.finished.set()

    @staticmethod
    async def _wait(calls: set[asyncio.Task], timeout: float) -> None:
        # The set changes as calls end (and as streams minted before the drain arrive), so it is re-read each time.
        deadline = time.monotonic() + timeout
        while calls and (left := deadline - time.monotonic()) > 0:
            await asyncio.wait(list(calls), timeout=min(left, 1.0))
