"""Shared fixtures: the embedded models load once for the whole test session."""

from __future__ import annotations

import pytest

from voiceagent.config import Settings
from voiceagent.runtime import AgentRuntime


def make_settings(tmp_path, **overrides) -> Settings:
    """Settings isolated from the developer's environment and .env file."""
    base = dict(
        data_dir=tmp_path,
        twilio_auth_token=None,
        twilio_account_sid=None,
        deepgram_api_key=None,
        anthropic_api_key=None,
        elevenlabs_api_key=None,
        openai_api_key=None,
        public_url=None,
    )
    base.update(overrides)
    return Settings(_env_file=None, **base)


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def runtime(session_data_dir) -> AgentRuntime:
    return AgentRuntime.load(make_settings(session_data_dir))


@pytest.fixture(scope="session")
def caller_voice(runtime):
    from voiceagent.simulate.voices import CallerVoice

    return CallerVoice(runtime.speech_models.piper_voice)
