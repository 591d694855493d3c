"""Per-call stream tokens: minted by the signed webhook, redeemed once by the media stream's `start`."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "voiceagent.stream-token.v1"  # keeps these signatures apart from anything else signed with the secret


class StreamTokenError(Exception):
    """A token that does not open a stream; the message is safe to log (it never holds the token)."""


@dataclass(frozen=True)
class StreamClaims:
    """What a valid token vouches for: the call and the number it comes from, as the signed webhook saw them."""

    call_sid: str
    caller: str
    token_id: str


class UsedTokens(Protocol):
    async def claim(self, token_id: str, ttl_secs: float) -> bool:
        """True the first time an id is claimed within `ttl_secs`, False after."""


class MemoryUsedTokens:
    """Used token ids of this process; enough for one instance (several need RedisUsedTokens)."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}

    async def claim(self, token_id: str, ttl_secs: float) -> bool:
        now = time.monotonic()
        # Ids only need remembering while their token could still be valid: drop the rest as we go.
        for old in [key for key, until in self._expiry.items() if until <= now]:
            del self._expiry[old]
        if token_id in self._expiry:
            return False
        self._expiry[token_id] = now + ttl_secs
        return True


class RedisUsedTokens:
    """Used token ids shared by every instance: `SET key NX EX ttl` succeeds for the first claim only."""

    def __init__(self, client, prefix: str = "voiceagent:token:") -> None:
        self._client = client
        self._prefix = prefix

    async def claim(self, token_id: str, ttl_secs: float) -> bool:
        return bool(await self._client.set(self._prefix + token_id, 1, nx=True, ex=max(1, int(ttl_secs + 1))))


class StreamTokens:
    """Mints and redeems tokens signed with the server secret (itsdangerous, HMAC-SHA256, timestamped)."""

    def __init__(self, secret: str, ttl_secs: float, used: UsedTokens) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})
        self.ttl_secs = ttl_secs
        self._used = used

    @staticmethod
    def random_secret() -> str:
        return secrets.token_urlsafe(32)

    def mint(self, call_sid: str, caller: str) -> str:
        return self._serializer.dumps({"sid": call_sid, "from": caller, "id": uuid.uuid4().hex})

    async def redeem(self, token: str) -> StreamClaims:
        """The token's claims, once: raises StreamTokenError when forged, expired, malformed or used before."""
        try:
            payload = self._serializer.loads(token, max_age=self.ttl_secs)
        except SignatureExpired:
            raise StreamTokenError("expired stream token") from None
        except BadSignature:
            raise StreamTokenError("invalid stream token") from None
        if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in ("sid", "from", "id")):
            raise StreamTokenError("malformed stream token")
        if not await self._used.claim(payload["id"], self.ttl_secs):
            raise StreamTokenError("stream token already used")
        return StreamClaims(call_sid=payload["sid"], caller=payload["from"], token_id=payload["id"])
