"""Encrypted recordings at rest: round trip, keys and their rotation, tampering, the folder, start-up checks."""

from __future__ import annotations

import base64
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import make_settings
from voiceagent.config import InvalidSettings, load_settings
from voiceagent.storage.recordings import (
    MAGIC,
    DecryptionFailed,
    NotARecording,
    RecordingKeys,
    RecordingStore,
    UnknownKey,
    decrypt,
    encrypt,
    parse_header,
)

AUDIO = b"RIFF....WAVEfmt " + os.urandom(5000)


def new_key() -> bytes:
    return os.urandom(32)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def keys(current: str, **by_id: bytes) -> RecordingKeys:
    return RecordingKeys(current_id=current, keys=by_id)


def test_round_trip_and_the_file_holds_no_plaintext():
    ring = keys("k1", k1=new_key())
    sealed = encrypt(AUDIO, ring)
    assert sealed.startswith(MAGIC) and AUDIO[:16] not in sealed and AUDIO[-64:] not in sealed
    assert parse_header(sealed).key_id == "k1"
    assert decrypt(sealed, ring) == AUDIO
    assert encrypt(AUDIO, ring) != sealed  # a fresh nonce every time


def test_unreadable_without_the_key_and_with_a_wrong_key():
    sealed = encrypt(AUDIO, keys("k1", k1=new_key()))
    with pytest.raises(UnknownKey, match="'k1', which is not configured"):
        decrypt(sealed, keys("k2", k2=new_key()))
    with pytest.raises(DecryptionFailed, match="not the one it was written with"):
        decrypt(sealed, keys("k1", k1=new_key()))


@pytest.mark.parametrize("where", ["version", "key id", "nonce", "body", "tag"])
def test_a_changed_byte_anywhere_fails(where):
    ring = keys("k1", k1=new_key(), k9=new_key())
    sealed = bytearray(encrypt(AUDIO, ring))
    header = parse_header(bytes(sealed))
    if where == "key id":  # the header names another configured key: the header is authenticated too
        sealed[len(MAGIC) + 2:len(MAGIC) + 4] = b"k9"
    else:
        index = {"version": len(MAGIC), "nonce": header.size - 1, "body": header.size + 10, "tag": len(sealed) - 1}
        sealed[index[where]] ^= 0x01
    with pytest.raises(NotARecording if where == "version" else DecryptionFailed):
        decrypt(bytes(sealed), ring)


def test_a_swapped_header_fails():
    """Two files under the same key: one's header (its nonce) on the other's body does not decrypt."""
    ring = keys("k1", k1=new_key())
    first, second = encrypt(AUDIO, ring), encrypt(AUDIO[::-1], ring)
    size = parse_header(first).size
    with pytest.raises(DecryptionFailed):
        decrypt(first[:size] + second[size:], ring)


def test_truncated_and_foreign_files_are_refused():
    ring = keys("k1", k1=new_key())
    with pytest.raises(NotARecording, match="truncated"):
        decrypt(encrypt(AUDIO, ring)[:20], ring)
    with pytest.raises(NotARecording, match="no VAREC header"):
        decrypt(b"RIFF plain audio", ring)


def test_key_rotation(tmp_path):
    old, new = new_key(), new_key()
    before = RecordingStore(tmp_path, keys("2025", **{"2025": old}))
    before.save("CAold", [AUDIO])
    after = RecordingStore(tmp_path, keys("2026", **{"2026": new, "2025": old}))  # rotated: old key kept for reading
    after.save("CAnew", [AUDIO[::-1]])
    assert {info.call_sid: info.key_id for info in after.list()} == {"CAold": "2025", "CAnew": "2026"}
    assert after.read("CAold") == AUDIO and after.read("CAnew") == AUDIO[::-1]
    with pytest.raises(UnknownKey):  # the old key dropped: old files can no longer be read
        RecordingStore(tmp_path, keys("2026", **{"2026": new})).read("CAold")


def test_store_layout_names_and_permissions(tmp_path):
    store = RecordingStore(tmp_path / "recordings", keys("k1", k1=new_key()))
    first = store.save("CA123", [AUDIO[:100], AUDIO[100:]])  # written chunk by chunk
    second = store.save("CA123", [AUDIO])  # the same CallSid again (a second stream) never overwrites
    odd = store.save("../../etc/passwd", [AUDIO])
    assert [first.name, second.name] == ["CA123.wav.enc", "CA123-2.wav.enc"]
    assert odd.parent == store.directory and odd.name == "______etc_passwd.wav.enc"
    assert sorted(p.name for p in store.directory.iterdir()) == sorted([first.name, second.name, odd.name])
    assert first.stat().st_mode & 0o777 == 0o600 and store.directory.stat().st_mode & 0o777 == 0o700
    assert store.read("CA123") == AUDIO
    with pytest.raises(Exception, match="no recording for 'CA999'"):
        store.read("CA999")
    (store.directory / "notes.wav.enc").write_bytes(b"not a recording")  # left out of the list, not a crash
    assert {info.call_sid for info in store.list()} == {"CA123", "CA123-2", "______etc_passwd"}


def test_a_failed_write_leaves_nothing(tmp_path):
    store = RecordingStore(tmp_path, keys("k1", k1=new_key()))

    def chunks():
        yield AUDIO
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.save("CAfail", chunks())
    assert list(tmp_path.iterdir()) == []


def test_purge_older_than(tmp_path):
    store = RecordingStore(tmp_path, keys("k1", k1=new_key()))
    old, recent = store.save("CAold", [AUDIO]), store.save("CArecent", [AUDIO])
    stale_part = tmp_path / ".CAcrashed.x1y2.part"  # a write a crash interrupted
    stale_part.write_bytes(b"VAREC")
    month_ago = time.time() - 31 * 86400
    for path in (old, stale_part):
        os.utime(path, (month_ago, month_ago))
    cutoff = datetime.now(timezone.utc) - timedelta(days=30)
    assert store.purge_older_than(cutoff) == 2
    assert [p.name for p in tmp_path.iterdir()] == [recent.name]
    assert store.purge_older_than(cutoff.timestamp()) == 0  # a POSIX time works too
    month_ago = time.time() - 31 * 86400
    os.utime(recent, (month_ago, month_ago))
    naive_utc = cutoff.replace(tzinfo=None) + timedelta(hours=1)  # storage/retention.py's cutoffs are naive UTC
    assert store.purge_older_than(naive_utc) == 1 and not recent.exists()
    assert RecordingStore(tmp_path / "never-created", store.keys).purge_older_than(cutoff) == 0


def test_start_up_refuses_record_calls_without_a_usable_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("RECORD_CALLS", "RECORDING_KEY", "RECORDING_KEY_ID", "RECORDING_OLD_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECORD_CALLS", "true")
    with pytest.raises(InvalidSettings, match="RECORD_CALLS=true needs RECORDING_KEY"):
        load_settings()
    secret = b64(os.urandom(16))
    monkeypatch.setenv("RECORDING_KEY", secret)  # a 128-bit key: too short
    with pytest.raises(InvalidSettings, match="RECORDING_KEY must be 32 bytes") as refused:
        load_settings()
    assert secret not in str(refused.value)  # the message never shows a key
    monkeypatch.setenv("RECORDING_KEY", "not base64!")
    with pytest.raises(InvalidSettings, match="RECORDING_KEY is not valid base64"):
        load_settings()
    good = new_key()
    monkeypatch.setenv("RECORDING_KEY", b64(good))
    monkeypatch.setenv("RECORDING_OLD_KEYS", "k0")
    with pytest.raises(InvalidSettings, match="RECORDING_OLD_KEYS must be `id:base64"):
        load_settings()
    old = new_key()
    monkeypatch.setenv("RECORDING_OLD_KEYS", f"k0:{b64(old)}")
    settings = load_settings()
    assert settings.record_calls and RecordingKeys.from_settings(settings) == keys("k1", k1=good, k0=old)


def test_recording_off_needs_no_key(tmp_path):
    settings = make_settings(tmp_path)
    assert not settings.record_calls and settings.recording_keyring() == {}
