"""Secret settings from a secrets backend: read over the environment at start-up, then refreshed while serving.

The backend's client lives in providers/ (a vendor SDK); this module only knows a `SecretSource`. A secret
setting is any Settings field of type SecretStr; it is stored as the secret named in lower-kebab case.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from loguru import logger
from pydantic import BaseModel, SecretStr, ValidationError, create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

from voiceagent.config import InvalidSettings, Settings, _without_none, describe_invalid_settings, load_settings

BACKEND_FIELDS = ("secrets_backend", "gcp_project", "gcp_secrets", "gcp_secrets_endpoint", "secrets_refresh_secs")

# Read where they are used, per call or per request, so a new version is used by the next call or request.
# The others are built into long-lived objects at start-up (the signature checker, Twilio's REST client, the
# embeddings client, the stream-token signer, the recording cipher): a new version needs a (rolling) restart.
LIVE = frozenset({"DEEPGRAM_API_KEY", "ANTHROPIC_API_KEY", "ELEVENLABS_API_KEY", "OPENAI_LLM_API_KEY",
                  "METRICS_TOKEN"})


class SecretError(RuntimeError):
    """A secret could not be read; the message names the setting, the secret and what to do."""


class SecretMissing(SecretError):
    pass


class SecretDenied(SecretError):
    pass


class SecretUnavailable(SecretError):
    pass


class SecretSource(Protocol):
    """Reads the latest version of a secret by id; raises SecretMissing, SecretDenied or SecretUnavailable."""

    def read(self, secret_id: str) -> str: ...


class SecretsNotLoaded(InvalidSettings):
    """Start-up stops: a requested secret is missing or may not be read."""


class _EnvOnly(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


# The backend's own settings, read before the rest: the rest may need the secrets to pass validation.
BackendSettings: type[BaseModel] = create_model(
    "BackendSettings", __base__=_EnvOnly,
    **{name: (Settings.model_fields[name].annotation, Settings.model_fields[name]) for name in BACKEND_FIELDS})


def secret_setting_names() -> list[str]:
    """The environment names of every secret setting (fields of type SecretStr)."""
    return [name.upper() for name, field in Settings.model_fields.items() if _without_none(field.annotation) is SecretStr]


def secret_id(name: str) -> str:
    """TWILIO_AUTH_TOKEN -> twilio-auth-token, the secret's id in the backend."""
    return name.lower().replace("_", "-")


def requested_secrets(listing: str) -> list[str]:
    """The names in GCP_SECRETS, checked against the secret settings."""
    names = [part.strip().upper() for part in listing.split(",") if part.strip()]
    unknown = sorted(set(names) - set(secret_setting_names()))
    if unknown:
        raise InvalidSettings(f"Invalid settings:\n  GCP_SECRETS: {', '.join(unknown)} is not a secret setting "
                              f"(allowed: {', '.join(secret_setting_names())})")
    return list(dict.fromkeys(names))


def read_secrets(source: SecretSource, names: list[str]) -> dict[str, str]:
    """Every requested secret, or SecretsNotLoaded listing each one that failed and why."""
    values, problems = {}, []
    for name in names:
        try:
            values[name] = source.read(secret_id(name))
        except SecretError as error:
            problems.append(f"  {name}: {error}")
    if problems:
        raise SecretsNotLoaded("Secrets could not be read (SECRETS_BACKEND):\n" + "\n".join(problems))
    return values


def load_settings_with_secrets(make_source: Callable[[BaseModel], SecretSource]) -> tuple[Settings, SecretRefresher | None]:
    """Settings with the backend's secrets over the environment's, and the refresher that keeps them current."""
    try:
        backend = BackendSettings()
    except ValidationError as error:
        lines = "\n".join(f"  {line}" for line in describe_invalid_settings(error))
        raise InvalidSettings(f"Invalid settings (environment or .env):\n{lines}") from None
    if backend.secrets_backend == "env":
        return load_settings(), None
    if not backend.gcp_project:
        raise InvalidSettings("Invalid settings (environment or .env):\n  SECRETS_BACKEND=gcp needs GCP_PROJECT")
    names = requested_secrets(backend.gcp_secrets)
    source = make_source(backend)
    values = read_secrets(source, names)
    settings = load_settings(**{name.lower(): value for name, value in values.items()})
    logger.info(f"Secrets: {len(values)} read from Secret Manager ({', '.join(names)})")
    refresher = SecretRefresher(settings, source, names, values) if backend.secrets_refresh_secs > 0 else None
    return settings, refresher


class SecretRefresher:
    """Reads the secrets again every SECRETS_REFRESH_SECS on a daemon thread. A new value of a LIVE setting
    replaces the old one in Settings (the next call or request uses it); the others are logged: restart."""

    def __init__(self, settings: Settings, source: SecretSource, names: list[str], current: dict[str, str]):
        self.settings, self.source, self.names = settings, source, names
        self._seen = dict(current)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rotated: list[str] = []  # LIVE settings replaced so far, in order
        self.failures = 0

    def refresh_once(self) -> list[str]:
        """Read every secret once; returns the settings whose value changed. A failed read keeps the old value."""
        changed = []
        for name in self.names:
            try:
                value = self.source.read(secret_id(name))
            except SecretError as error:
                self.failures += 1
                logger.warning(f"Secret refresh: {name} kept its current value ({type(error).__name__})")
                continue
            if value == self._seen.get(name):
                continue
            self._seen[name] = value
            changed.append(name)
            if name in LIVE:
                setattr(self.settings, name.lower(), SecretStr(value))
                self.rotated.append(name)
                logger.info(f"Secret refresh: {name} has a new version, used from the next call or request")
            else:
                logger.warning(f"Secret refresh: {name} has a new version; restart the instances to use it")
        return changed

    def start(self) -> None:
        interval = self.settings.secrets_refresh_secs
        self._thread = threading.Thread(target=self._run, args=(interval,), name="secret-refresh", daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.refresh_once()
            except Exception:  # a refresh must never take the server down; the next one tries again
                self.failures += 1
                logger.exception("Secret refresh failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
