"""The console's recording player: decrypted for authorised console users, still encrypted at rest."""

from __future__ import annotations

import base64
import io
import os
import wave

from tests.web.conftest import CALL_SID, CONSOLE_TOKEN, local_client, remote_client
from voiceagent.storage.recordings import RecordingKeys, RecordingStore


def test_a_recorded_call_plays_its_decrypted_wav_to_console_users_only(web_app):
    app = web_app(console_token=CONSOLE_TOKEN, record_calls=True,
                  recording_key=base64.b64encode(os.urandom(32)).decode())
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2), wav.setsampwidth(2), wav.setframerate(8000)
        wav.writeframes(os.urandom(8000 * 4))
    store = RecordingStore.from_settings(app.state.agent.settings)
    store.save(CALL_SID, [buffer.getvalue()])
    bearer = {"Authorization": f"Bearer {CONSOLE_TOKEN}"}
    with remote_client(app) as client:
        page = client.get(f"/console/calls/{CALL_SID}", headers=bearer).text
        played = client.get(f"/console/calls/{CALL_SID}/recording", headers=bearer)
        refused = client.get(f"/console/calls/{CALL_SID}/recording")
        none = client.get("/console/calls/CAnorecording/recording", headers=bearer)
    assert f'<audio controls preload="none" src="/console/calls/{CALL_SID}/recording">' in page
    assert played.status_code == 200 and played.headers["content-type"] == "audio/wav"
    assert played.content == buffer.getvalue()  # decrypted on the way out
    assert store.path_for(CALL_SID).read_bytes()[:5] == b"VAREC"  # and still encrypted at rest
    assert refused.status_code == 401 and refused.content[:4] != b"RIFF"
    assert none.status_code == 404


def test_a_recording_the_keys_cannot_open_says_why(web_app):
    app = web_app(recording_key=base64.b64encode(os.urandom(32)).decode())
    settings = app.state.agent.settings
    other = RecordingKeys(current_id=settings.recording_key_id, keys={settings.recording_key_id: os.urandom(32)})
    RecordingStore(settings.data_dir / "recordings", other).save(CALL_SID, [b"RIFF...."])
    with local_client(app) as client:
        answer = client.get(f"/console/calls/{CALL_SID}/recording")
    assert answer.status_code == 503 and "does not open this recording" in answer.text
