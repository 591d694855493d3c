"""Secrets from Google Secret Manager through the official client (REST) against the local emulator of its API."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from voiceagent.emulators.gcp_secrets import SecretManagerEmulator, serving_on_a_thread
from voiceagent.providers.gcp_secrets import GcpSecretSource
from voiceagent.secrets import (
    LIVE,
    SecretDenied,
    SecretMissing,
    SecretsNotLoaded,
    SecretUnavailable,
    load_settings_with_secrets,
    secret_setting_names,
)
from voiceagent.server import create_app

PROJECT = "voiceagent-test"


@pytest.fixture
def secret_manager():
    """The emulator on its own event loop thread: the client under test is synchronous."""
    emulator = SecretManagerEmulator(project=PROJECT)
    with serving_on_a_thread(emulator) as url:
        yield emulator, url


@pytest.fixture
def gcp_env(monkeypatch, tmp_path, secret_manager):
    """An environment that points SECRETS_BACKEND=gcp at the emulator (no .env of the developer's)."""
    _, url = secret_manager
    monkeypatch.chdir(tmp_path)
    for name in secret_setting_names():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SECRETS_BACKEND", "gcp")
    monkeypatch.setenv("GCP_PROJECT", PROJECT)
    monkeypatch.setenv("GCP_SECRETS_ENDPOINT", url)
    monkeypatch.setenv("GCP_SECRETS", "TWILIO_AUTH_TOKEN,METRICS_TOKEN,DEEPGRAM_API_KEY")
    return monkeypatch


def test_the_latest_version_is_read_through_the_official_client(secret_manager):
    emulator, url = secret_manager
    emulator.add_version("metrics-token", "first\n")
    emulator.add_version("metrics-token", "second\n")
    assert GcpSecretSource(PROJECT, url).read("metrics-token") == "second"
    assert emulator.requests == [f"projects/{PROJECT}/secrets/metrics-token/versions/latest"]


def test_missing_denied_and_corrupted_secrets_are_told_apart(secret_manager):
    emulator, url = secret_manager
    source = GcpSecretSource(PROJECT, url)
    with pytest.raises(SecretMissing, match="does not exist"):
        source.read("twilio-auth-token")
    emulator.add_version("twilio-auth-token", "token")
    emulator.denied.add("twilio-auth-token")
    with pytest.raises(SecretDenied, match="roles/secretmanager.secretAccessor"):
        source.read("twilio-auth-token")
    emulator.add_version("metrics-token", "value")
    emulator.corrupt.add("metrics-token")
    with pytest.raises(SecretUnavailable, match="CRC32C"):
        source.read("metrics-token")
    with pytest.raises(SecretDenied):  # another project: IAM says no
        GcpSecretSource("someone-elses-project", url).read("metrics-token")


def test_secrets_overlay_the_environment_at_start_up(gcp_env, secret_manager):
    emulator, _ = secret_manager
    gcp_env.setenv("METRICS_TOKEN", "from-the-environment")
    for name, value in (("twilio-auth-token", "tw-secret"), ("metrics-token", "m-secret"),
                        ("deepgram-api-key", "dg-secret")):
        emulator.add_version(name, value)
    settings, refresher = load_settings_with_secrets(GcpSecretSource.for_settings)
    assert settings.twilio_auth_token.get_secret_value() == "tw-secret"
    assert settings.metrics_token.get_secret_value() == "m-secret"  # the backend wins over the environment
    assert settings.resolved_provider("stt") == "deepgram"  # a key from Secret Manager picks the vendor
    assert refresher is not None and refresher.names == ["TWILIO_AUTH_TOKEN", "METRICS_TOKEN", "DEEPGRAM_API_KEY"]


def test_start_up_stops_naming_every_secret_it_could_not_read(gcp_env, secret_manager):
    emulator, _ = secret_manager
    emulator.add_version("metrics-token", "m")
    emulator.add_version("deepgram-api-key", "d")
    emulator.denied.add("deepgram-api-key")
    with pytest.raises(SecretsNotLoaded) as stopped:
        load_settings_with_secrets(GcpSecretSource.for_settings)
    message = str(stopped.value)
    assert "TWILIO_AUTH_TOKEN: secret 'twilio-auth-token' does not exist" in message
    assert "DEEPGRAM_API_KEY: reading secret 'deepgram-api-key' was denied" in message
    assert "METRICS_TOKEN" not in message and "'m'" not in message and "'d'" not in message  # no values


def test_an_unknown_secret_name_or_a_missing_project_stops_start_up(gcp_env):
    gcp_env.setenv("GCP_SECRETS", "TWILIO_AUTH_TOKEN,BUSINESS_NAME")
    with pytest.raises(SystemExit, match="BUSINESS_NAME is not a secret setting"):
        load_settings_with_secrets(GcpSecretSource.for_settings)
    gcp_env.delenv("GCP_PROJECT")
    with pytest.raises(SystemExit, match="SECRETS_BACKEND=gcp needs GCP_PROJECT"):
        load_settings_with_secrets(GcpSecretSource.for_settings)


def test_without_a_backend_nothing_is_read(monkeypatch, tmp_path, secret_manager):
    emulator, _ = secret_manager
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRETS_BACKEND", "env")
    settings, refresher = load_settings_with_secrets(GcpSecretSource.for_settings)
    assert refresher is None and emulator.requests == []


async def test_a_new_metrics_token_version_is_used_by_the_next_request_without_a_restart(gcp_env, secret_manager):
    emulator, _ = secret_manager
    for name in ("twilio-auth-token", "metrics-token", "deepgram-api-key"):
        emulator.add_version(name, f"{name}-v1")
    settings, refresher = load_settings_with_secrets(GcpSecretSource.for_settings)
    app = create_app(settings)  # /metrics needs no models: the app is served without its start-up
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent") as client:
        assert (await client.get("/metrics", headers={"Authorization": "Bearer metrics-token-v1"})).status_code == 200
        emulator.add_version("metrics-token", "metrics-token-v2")
        emulator.add_version("twilio-auth-token", "twilio-auth-token-v2")
        changed = await asyncio.to_thread(refresher.refresh_once)
        assert changed == ["TWILIO_AUTH_TOKEN", "METRICS_TOKEN"]
        assert (await client.get("/metrics", headers={"Authorization": "Bearer metrics-token-v1"})).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer metrics-token-v2"})).status_code == 200
    # The Twilio token is built into the signature checker at start-up: it waits for a restart.
    assert settings.twilio_auth_token.get_secret_value() == "twilio-auth-token-v1"
    assert refresher.rotated == ["METRICS_TOKEN"] and "TWILIO_AUTH_TOKEN" not in LIVE


def test_a_failed_refresh_keeps_the_current_value(gcp_env, secret_manager):
    emulator, _ = secret_manager
    for name in ("twilio-auth-token", "metrics-token", "deepgram-api-key"):
        emulator.add_version(name, f"{name}-v1")
    settings, refresher = load_settings_with_secrets(GcpSecretSource.for_settings)
    emulator.add_version("deepgram-api-key", "deepgram-api-key-v2")
    emulator.denied.add("deepgram-api-key")
    assert refresher.refresh_once() == [] and refresher.failures == 1
    assert settings.deepgram_api_key.get_secret_value() == "deepgram-api-key-v1"


def test_the_background_refresh_picks_up_a_new_key(gcp_env, secret_manager):
    emulator, _ = secret_manager
    gcp_env.setenv("SECRETS_REFRESH_SECS", "0.05")
    for name in ("twilio-auth-token", "metrics-token", "deepgram-api-key"):
        emulator.add_version(name, f"{name}-v1")
    settings, refresher = load_settings_with_secrets(GcpSecretSource.for_settings)
    refresher.start()
    try:
        emulator.add_version("deepgram-api-key", "deepgram-api-key-v2")
        deadline = time.monotonic() + 30
        while settings.deepgram_api_key.get_secret_value() != "deepgram-api-key-v2" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        refresher.stop()
    assert settings.deepgram_api_key.get_secret_value() == "deepgram-api-key-v2"
    assert refresher.rotated == ["DEEPGRAM_API_KEY"]
