"""How many calls run at once, against MAX_CONCURRENT_CALLS: in this process, or across instances in Redis.

A slot is held by a call id (the CallSid) until an expiry. The webhook reserves one for as long as the stream
token lives; the media stream takes it over and the instance keeps refreshing it while the call runs, so the
slots of a crashed instance free themselves within `ACTIVE_TTL_SECS`.
"""

from __future__ import annotations

import time

ACTIVE_TTL_SECS = 30.0
HEARTBEAT_SECS = 10.0

# Atomic check-and-take in Redis: drop expired slots, keep or renew one the id already holds, else take one if
# the count allows. The clock is Redis's own, so instances whose clocks differ agree on expiry.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1
"""
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
end
return 1
"""
_COUNT = """
local t = redis.call('TIME')
return redis.call('ZCOUNT', KEYS[1], tonumber(t[1]) + tonumber(t[2]) / 1000000, '+inf')
"""


class MemoryCallSlots:
    """Slots of this process only."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._expiry: dict[str, float] = {}

    def _expire(self) -> float:
        now = time.monotonic()
        for call_id in [key for key, until in self._expiry.items() if until <= now]:
            del self._expiry[call_id]
        return now

    async def take(self, call_id: str, ttl_secs: float) -> bool:
        """Hold (or renew) a slot for `call_id`; False when every slot is taken by other calls."""
        now = self._expire()
        if call_id not in self._expiry and len(self._expiry) >= self.limit:
            return False
        self._expiry[call_id] = now + ttl_secs
        return True

    async def renew(self, call_ids: list[str], ttl_secs: float) -> None:
        now = time.monotonic()
        for call_id in call_ids:
            if call_id in self._expiry:
                self._expiry[call_id] = now + ttl_secs

    async def release(self, call_id: str) -> None:
        self._expiry.pop(call_id, None)

    async def count(self) -> int:
        self._expire()
        return len(self._expiry)


class RedisCallSlots:
    """Slots shared by every instance: one sorted set of call ids scored by their expiry."""

    def __init__(self, client, limit: int, key: str = "voiceagent:calls") -> None:
        self.limit = limit
        self._client = client
        self._key = key
        self._take = client.register_script(_TAKE)
        self._renew = client.register_script(_RENEW)
        self._count = client.register_script(_COUNT)

    async def take(self, call_id: str, ttl_secs: float) -> bool:
        return bool(await self._take(keys=[self._key], args=[call_id, self.limit, ttl_secs]))

    async def renew(self, call_ids: list[str], ttl_secs: float) -> None:
        if call_ids:
            await self._renew(keys=[self._key], args=[ttl_secs, *call_ids])

    async def release(self, call_id: str) -> None:
        await self._client.zrem(self._key, call_id)

    async def count(self) -> int:
        return int(await self._count(keys=[self._key]))
