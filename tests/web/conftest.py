"""An app over a database of its own, with one stored call, and HTTP clients seen from loopback or from afar."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.call.helpers import runtime_with
from tests.conftest import make_settings
from voiceagent.server import create_app
from voiceagent.storage import Database
from voiceagent.storage.calls import save_call_record

CALL_SID = "CA0123456789abcdef0123456789abcdef"
CONSOLE_TOKEN = "console-token-for-tests-0123456789"


def store_call(database: Database, call_sid: str = CALL_SID, outcome: str = "escalated",
               started_at: float | None = None) -> None:
    started = started_at or time.time() - 60
    save_call_record(
        database, call_sid=call_sid, caller="***67", started_at=started, ended_at=started + 42.0, outcome=outcome,
        turns=[{"caller_speech_end": 10.0, "stt_final": 10.4, "end_of_turn": 10.5, "brain_first_text": 10.6,
                "tts_text_sent": 10.6, "tts_first_audio": 10.8, "first_audio_sent": 10.9},
               {"caller_speech_end": 20.0, "stt_final": 20.3, "end_of_turn": 20.3, "first_audio_sent": 21.5}],
        transcript=[{"role": "agent", "text": "Hello! Thanks for calling.", "at": started + 0.3, "heard": True},
                    {"role": "agent", "text": "How can I help you today?", "at": started + 1.2, "heard": False},
                    {"role": "caller", "text": "I want a person.", "at": started + 3.0}],
        tool_calls=[{"name": "escalate_to_human", "ok": True, "error": None,
                     "arguments": {"reason": "wants a person", "callback": "***67"},
                     "result": {"ok": True, "ticket_id": 7}}],
        usage={}, cost_usd=0.01,
    )


@pytest.fixture
def web_app(runtime, tmp_path):
    """Build an app (CONSOLE_TOKEN as given) whose database holds one finished call."""

    def build(**settings):
        # A listed call is from 2025: past RETENTION_DAYS' default, the server's start-up purge would delete it.
        config = make_settings(tmp_path, **{"retention_days": 3650, **settings})
        database = Database(f"sqlite:///{tmp_path / 'web.db'}")
        database.create_all()
        store_call(database)
        return create_app(config, runtime=runtime_with(runtime, config, database=database))

    return build


def local_client(app) -> TestClient:
    """A browser on the server's machine, talking to it by a loopback address."""
    return TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000), follow_redirects=False)


def remote_client(app) -> TestClient:
    return TestClient(app, base_url="https://agent.example.com", client=("203.0.113.9", 50000),
                      follow_redirects=False)
