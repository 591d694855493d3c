"""Stream tokens: minted for one call and number, redeemed once, within their lifetime, only with our secret."""

from __future__ import annotations

import hashlib

import pytest
from itsdangerous import URLSafeTimedSerializer

from voiceagent.access.tokens import SALT, MemoryUsedTokens, StreamTokenError, StreamTokens


def tokens(ttl: float = 60.0, secret: str = "s3cret-for-tests", used=None) -> StreamTokens:
    return StreamTokens(secret, ttl, used or MemoryUsedTokens())


async def test_a_minted_token_vouches_for_its_call_and_number():
    issuer = tokens()
    claims = await issuer.redeem(issuer.mint("CA1", "+15551234567"))
    assert (claims.call_sid, claims.caller) == ("CA1", "+15551234567")
    assert len(claims.token_id) == 32


async def test_a_token_opens_one_stream_only():
    issuer = tokens()
    token = issuer.mint("CA1", "+15551234567")
    await issuer.redeem(token)
    with pytest.raises(StreamTokenError, match="already used"):
        await issuer.redeem(token)


async def test_each_call_gets_its_own_token():
    issuer = tokens()
    first, second = issuer.mint("CA1", "+1555"), issuer.mint("CA1", "+1555")
    assert first != second
    assert (await issuer.redeem(first)).token_id != (await issuer.redeem(second)).token_id


async def test_an_expired_token_is_refused(monkeypatch):
    issuer = tokens(ttl=60)
    token = issuer.mint("CA1", "+1555")
    # itsdangerous reads the clock through its signer's get_timestamp: move it 61 s on.
    signer = issuer._serializer.make_signer(SALT)
    later = signer.get_timestamp() + 61
    monkeypatch.setattr(type(signer), "get_timestamp", lambda self: later)
    with pytest.raises(StreamTokenError, match="expired"):
        await issuer.redeem(token)


async def test_a_token_signed_with_another_secret_or_edited_is_refused():
    forged = tokens(secret="someone-elses-secret").mint("CA1", "+1555")
    with pytest.raises(StreamTokenError, match="invalid"):
        await tokens().redeem(forged)
    genuine = tokens().mint("CA1", "+1555")
    with pytest.raises(StreamTokenError, match="invalid"):
        await tokens().redeem(genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"))
    with pytest.raises(StreamTokenError, match="invalid"):
        await tokens().redeem("not a token at all")


async def test_a_signed_payload_that_is_not_a_token_is_refused():
    # Signed with the right secret and salt but not minted by us: claims are checked, not trusted.
    odd = URLSafeTimedSerializer("s3cret-for-tests", salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})
    with pytest.raises(StreamTokenError, match="malformed"):
        await tokens().redeem(odd.dumps(["CA1", "+1555"]))


async def test_used_token_ids_are_forgotten_once_their_token_could_no_longer_be_valid(monkeypatch):
    used = MemoryUsedTokens()
    clock = [1000.0]
    monkeypatch.setattr("voiceagent.access.tokens.time.monotonic", lambda: clock[0])
    assert await used.claim("a", 60) and not await used.claim("a", 60)
    clock[0] += 61
    assert await used.claim("b", 60)
    assert list(used._expiry) == ["b"]  # "a" was dropped: the set stays as small as the tokens alive
