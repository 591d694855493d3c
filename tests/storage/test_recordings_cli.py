"""`voiceagent recordings`: list, play (decrypt) and new-key, with clear errors instead of tracebacks."""

from __future__ import annotations

import base64
import io
import os
import wave

import pytest
from typer.testing import CliRunner

from voiceagent.cli import app
from voiceagent.storage.recordings import RecordingKeys, RecordingStore


def wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(os.urandom(8000 * 4))
    return buffer.getvalue()


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env from the working directory
    return tmp_path


def env(folder, key: bytes | None, key_id: str = "k1", old: str = "") -> dict:
    return {"DATA_DIR": str(folder), "RECORD_CALLS": "false", "RECORDING_KEY_ID": key_id, "RECORDING_OLD_KEYS": old,
            "RECORDING_KEY": base64.b64encode(key).decode() if key else ""}


def invoke(*args, environment):
    # An empty RECORDING_KEY in the environment means unset; typer's runner passes None to remove a variable.
    environment = {name: (value or None) for name, value in environment.items()}
    return CliRunner().invoke(app, ["recordings", *args], env=environment)


def said(result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_list_play_and_rotation(folder):
    old, new = os.urandom(32), os.urandom(32)
    audio = wav_bytes()
    RecordingStore(folder / "recordings", RecordingKeys("k1", {"k1": old})).save("CAfirst", [audio])
    RecordingStore(folder / "recordings", RecordingKeys("k2", {"k2": new})).save("CAsecond", [audio])
    rotated = env(folder, new, "k2", old=f"k1:{base64.b64encode(old).decode()}")

    listed = invoke("list", environment=rotated)
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.output.splitlines() if "CA" in line]
    assert len(rows) == 2 and "k1" in rows[0] + rows[1] and "k2" in rows[0] + rows[1]
    assert "not configured" not in listed.output

    for call_sid in ("CAfirst", "CAsecond"):
        out = folder / f"{call_sid}.wav"
        played = invoke("play", call_sid, "--out", str(out), environment=rotated)
        assert played.exit_code == 0, played.output
        assert out.read_bytes() == audio and out.stat().st_mode & 0o777 == 0o600


def test_missing_and_wrong_keys_give_a_message_not_a_traceback(folder):
    key = os.urandom(32)
    RecordingStore(folder / "recordings", RecordingKeys("k1", {"k1": key})).save("CAcall", [wav_bytes()])
    out = folder / "out.wav"

    without = invoke("play", "CAcall", "--out", str(out), environment=env(folder, None))
    assert without.exit_code == 2 and "encrypted with key 'k1', which is not configured" in said(without)
    listed = invoke("list", environment=env(folder, None))
    assert listed.exit_code == 0 and "not configured" in said(listed)  # listing needs no key

    wrong = invoke("play", "CAcall", "--out", str(out), environment=env(folder, os.urandom(32)))
    assert wrong.exit_code == 2 and "does not open this recording" in said(wrong)
    missing = invoke("play", "CAnone", "--out", str(out), environment=env(folder, key))
    assert missing.exit_code == 2 and "no recording for 'CAnone'" in said(missing)
    for result in (without, wrong, missing):
        assert isinstance(result.exception, SystemExit)
    assert not out.exists()  # nothing written when nothing could be decrypted
    unwritable = invoke("play", "CAcall", "--out", str(folder / "no" / "such" / "dir.wav"), environment=env(folder, key))
    assert unwritable.exit_code == 2 and "Cannot write" in said(unwritable)
    assert isinstance(unwritable.exception, SystemExit)


def test_an_empty_folder_and_a_new_key(folder):
    empty = invoke("list", environment=env(folder, None))
    assert empty.exit_code == 0 and "no recordings" in said(empty)
    made = invoke("new-key", environment=env(folder, None))
    assert made.exit_code == 0 and len(base64.b64decode(made.output.strip(), validate=True)) == 32
