"""What the routes ask before serving: may this request, this call, this media stream go ahead?"""

from __future__ import annotations

import asyncio
import hmac
import uuid
from dataclasses import dataclass, replace

from limits.errors import StorageError
from loguru import logger
from redis.exceptions import RedisError

from voiceagent.access.client_ip import client_ip, parse_networks
from voiceagent.access.drain import Drain
from voiceagent.access.rate_limits import RequestLimits
from voiceagent.access.slots import ACTIVE_TTL_SECS, HEARTBEAT_SECS, MemoryCallSlots, RedisCallSlots
from voiceagent.access.tokens import MemoryUsedTokens, RedisUsedTokens, StreamTokenError, StreamTokens
from voiceagent.config import Settings
from voiceagent.observability.metrics import CallMetrics
from voiceagent.shared.phrases import LINES_BUSY, TOO_MANY_CALLS
from voiceagent.shared.redact import redact_phone
from voiceagent.telephony.media_stream import StreamStart

SHARED_STATE_ERRORS = (RedisError, StorageError, OSError, TimeoutError)
CALLER_PARAMETERS = ("caller", "From", "callSid", "token")  # written by the client: never trusted with a token


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the counter's reason, the stream's close code, the line a webhook says."""

    reason: str
    message: str
    close_code: int = 1008
    line: str | None = None


class AccessGate:
    """Tokens, limits, call slots and the drain of one app; shared state lives in Redis when REDIS_URL is set."""

    def __init__(self, settings: Settings, metrics: CallMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.tokens_required = settings.twilio_auth_token is not None
        self.random_secret = settings.stream_token_secret is None
        self._secret = (settings.stream_token_secret.get_secret_value() if settings.stream_token_secret
                        else StreamTokens.random_secret())
        self._trusted = parse_networks(settings.trusted_proxies)
        self.drain = Drain(settings.drain_secs, settings.shutdown_grace_secs)
        self._held: set[str] = set()  # call ids whose slot this instance keeps alive
        self._redis = None
        self._heartbeat: asyncio.Task | None = None
        self._memory_tokens = MemoryUsedTokens()
        self.tokens = StreamTokens(self._secret, settings.stream_token_ttl_secs, self._memory_tokens)
        self.slots: MemoryCallSlots | RedisCallSlots = MemoryCallSlots(settings.max_concurrent_calls)
        self.limits: RequestLimits | None = None

    async def start(self) -> None:
        """Connect the shared state (on the serving event loop) and start refreshing this instance's call slots."""
        settings = self.settings
        if settings.redis_url:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
            self.tokens = StreamTokens(self._secret, settings.stream_token_ttl_secs, RedisUsedTokens(self._redis))
            self.slots = RedisCallSlots(self._redis, settings.max_concurrent_calls)
        self.limits = RequestLimits(settings.rate_limit_per_minute, settings.calls_per_number_per_hour,
                                    settings.redis_url)
        self._heartbeat = asyncio.create_task(self._keep_slots_alive())
        where = "in Redis (shared by instances)" if settings.redis_url else "in memory (this process only)"
        logger.info(f"Limits: {settings.rate_limit_per_minute} requests/min per IP, "
                    f"{settings.calls_per_number_per_hour} calls/hour per number, "
                    f"{settings.max_concurrent_calls} calls at once; counted {where}")
        if not self.tokens_required:
            logger.warning("TWILIO_AUTH_TOKEN is not set: signature validation and stream tokens are OFF "
                           "(a media stream without a token is served, with the caller number it claims)")
        if self.random_secret:
            logger.warning("STREAM_TOKEN_SECRET is not set: stream tokens are signed with a random secret of this "
                           "process, so they only work on this instance")

    async def stop(self) -> None:
        if self._heartbeat:
            self._heartbeat.cancel()
        if self._redis is not None:
            await self._redis.aclose()

    def refuse(self, refusal: Refusal, where: str, level: str = "WARNING") -> Refusal:
        """Count and log a refusal (its message never holds a token, a number or a secret)."""
        self.metrics.rejected_requests.labels(reason=refusal.reason).inc()
        logger.log(level, f"Refused {where}: {refusal.message}")
        return refusal

    def _shared_state_failed(self, what: str, error: Exception) -> None:
        # Redis down must not take the phone line down with it: the check is skipped (fail open) and counted.
        self.metrics.errors.labels(component="shared_state").inc()
        logger.error(f"Shared state unavailable ({what}: {type(error).__name__}); allowing the request")

    # -- requests -------------------------------------------------------------------------------

    def client_of(self, scope) -> str:
        peer = scope.get("client")
        forwarded = [value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"]
        return client_ip(peer[0] if peer else None, forwarded, self._trusted)

    async def request_retry_after(self, scope) -> int | None:
        """None when the request may go on; else it is over its IP's budget and may retry after this many seconds."""
        if self.limits is None:
            return None
        try:
            retry_after = await self.limits.request_retry_after(self.client_of(scope))
        except SHARED_STATE_ERRORS as error:
            self._shared_state_failed("rate limit", error)
            return None
        if retry_after is not None:  # a flood would flood the log too: the counter is the signal here
            self.refuse(Refusal("rate_limit", f"{scope.get('path')}: over {self.settings.rate_limit_per_minute} "
                                "requests per minute from one client"), "request", level="DEBUG")
        return retry_after

    def metrics_authorized(self, authorization: str | None) -> bool:
        """True without METRICS_TOKEN; else the header must be `Bearer <token>` (compared in constant time)."""
        if self.settings.metrics_token is None:
            return True
        expected = f"Bearer {self.settings.metrics_token.get_secret_value()}".encode()
        return hmac.compare_digest((authorization or "").encode(), expected)

    # -- the webhook ----------------------------------------------------------------------------

    def _busy(self, reason: str, message: str) -> Refusal:
        return Refusal(reason, message, close_code=1013,
                       line=LINES_BUSY.format(business=self.settings.business_name))

    async def answer_call(self, call_sid: str, caller: str) -> str | Refusal:
        """A stream token for this call, or the refusal the webhook says instead (busy, too many calls)."""
        if self.drain.draining:
            return self.refuse(self._busy("draining", "the server is draining for shutdown"), "call")
        try:
            if self.limits and not await self.limits.call_allowed(caller):
                return self.refuse(Refusal(
                    "number_limit", f"{redact_phone(caller)} is over {self.settings.calls_per_number_per_hour} calls "
                    "per hour", line=TOO_MANY_CALLS.format(business=self.settings.business_name)), "call")
        except SHARED_STATE_ERRORS as error:
            self._shared_state_failed("calls per number", error)
        call_sid = call_sid or f"CA{uuid.uuid4().hex}"
        # The slot is reserved now, for as long as the token lives: the media stream takes it over.
        if not await self._take_slot(call_sid, self.tokens.ttl_secs):
            return self.refuse(self._busy("busy", f"{self.settings.max_concurrent_calls} calls in progress"), "call")
        return self.tokens.mint(call_sid, caller)

    async def _take_slot(self, call_id: str, ttl_secs: float) -> bool:
        try:
            return await self.slots.take(call_id, ttl_secs)
        except SHARED_STATE_ERRORS as error:
            self._shared_state_failed("call slots", error)
            return True

    # -- the media stream -----------------------------------------------------------------------

    async def admit_stream(self, start: StreamStart) -> StreamStart | Refusal:
        """The stream's `start` with the caller and CallSid its token vouches for, or why it is refused."""
        token = start.custom_parameters.get("token")
        if token:
            try:
                claims = await self._redeem(token)
            except StreamTokenError as error:
                return self.refuse(Refusal("stream_token", str(error)), "media stream")
            if start.call_sid and start.call_sid != claims.call_sid:
                return self.refuse(Refusal("stream_token", "stream token of another call"), "media stream")
            others = {k: v for k, v in start.custom_parameters.items() if k not in CALLER_PARAMETERS}
            start = replace(start, call_sid=claims.call_sid, custom_parameters={**others, "caller": claims.caller})
        elif self.tokens_required:
            return self.refuse(Refusal("stream_token", "no stream token"), "media stream")
        elif self.drain.draining:
            return self.refuse(self._busy("draining", "the server is draining for shutdown"), "media stream")
        call_id = start.call_sid or start.stream_sid
        if not await self._take_slot(call_id, ACTIVE_TTL_SECS):
            return self.refuse(self._busy("busy", f"{self.settings.max_concurrent_calls} calls in progress"),
                               "media stream")
        self._held.add(call_id)
        return start

    async def _redeem(self, token: str):
        try:
            return await self.tokens.redeem(token)
        except SHARED_STATE_ERRORS as error:
            # Signature and expiry still hold; only single use narrows to this instance until Redis is back.
            self._shared_state_failed("used stream tokens", error)
            return await StreamTokens(self._secret, self.tokens.ttl_secs, self._memory_tokens).redeem(token)

    async def release(self, start: StreamStart) -> None:
        """Free the call's slot (the stream admitted by `admit_stream` has ended)."""
        call_id = start.call_sid or start.stream_sid
        self._held.discard(call_id)
        try:
            await self.slots.release(call_id)
        except SHARED_STATE_ERRORS as error:  # the slot then expires on its own
            self._shared_state_failed("call slots", error)

    async def _keep_slots_alive(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECS)
            try:
                await self.slots.renew(list(self._held), ACTIVE_TTL_SECS)
            except SHARED_STATE_ERRORS as error:
                self._shared_state_failed("call slot heartbeat", error)
