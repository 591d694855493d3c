"""Abuse limits with the `limits` library: requests per client IP per minute, calls per number per hour.

Counts live in memory, or in Redis when REDIS_URL is set so that every instance spends one budget.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

KEY_PREFIX = "voiceagent:limits"


def limits_storage_uri(redis_url: str) -> str:
    """REDIS_URL in the `limits` library's async scheme (async+redis://, async+rediss://, async+redis+unix://)."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


def number_key(number: str) -> str:
    """A caller number as a counter key: hashed, so Redis never holds the number itself."""
    return hashlib.sha256(f"voiceagent:{number}".encode()).hexdigest()[:32]


class RequestLimits:
    """Moving-window limits: the budget is the last minute (or hour), not a calendar window that resets at once."""

    def __init__(self, per_ip_per_minute: int, calls_per_number_per_hour: int, redis_url: str | None = None):
        storage: Storage = (RedisStorage(limits_storage_uri(redis_url), implementation="redispy",
                                         key_prefix=KEY_PREFIX) if redis_url else MemoryStorage())
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_ip = RateLimitItemPerMinute(per_ip_per_minute)
        self._per_number = RateLimitItemPerHour(calls_per_number_per_hour)

    async def request_retry_after(self, client: str) -> int | None:
        """None when this request from `client` is within its budget, else seconds until it may try again."""
        if await self._limiter.hit(self._per_ip, "ip", client):
            return None
        stats = await self._limiter.get_window_stats(self._per_ip, "ip", client)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def call_allowed(self, number: str) -> bool:
        """Counts one call from `number`; False once the number has used its hourly budget."""
        return await self._limiter.hit(self._per_number, "number", number_key(number or "unknown"))
