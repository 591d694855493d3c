"""Settings from environment variables or `.env`, typed and checked at start-up; decides the stack.

Every field maps to the upper-case environment variable of its name. `docs/configuration.md` is generated
from this class (`voiceagent config --markdown`), so the reference cannot drift from the code.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

SttProvider = Literal["auto", "embedded", "deepgram"]
LlmProvider = Literal["auto", "embedded", "anthropic", "openai"]
TtsProvider = Literal["auto", "embedded", "elevenlabs"]
EmbeddingsProvider = Literal["auto", "embedded", "minilm", "wordllama", "openai"]
LogLevel = Literal["TRACE", "DEBUG", "INFO", "WARNING", "ERROR"]
PARTS = ("stt", "llm", "tts", "embeddings")
PHONE_SAMPLE_RATE = 8000
TWILIO_FRAME_MS = 20  # Twilio sends one media message per 20 ms of caller audio
STOCK_RATES = (16000, 24000)  # Pipecat's default pipeline rates, for the bench's comparison


def _setting(group: str, default: Any, description: str, **constraints) -> Any:
    """A field with its documentation group (the sections of docs/configuration.md)."""
    return Field(default, description=description, json_schema_extra={"group": group}, **constraints)


@dataclass(frozen=True)
class TurnTaking:
    """Every turn-taking threshold of one call, in seconds, resolved for the stack and profile in use."""

    stock: bool  # Pipecat's defaults (the bench's comparison), not this project's tuning
    segmented_stt: bool  # the STT transcribes whole VAD segments (embedded) instead of streaming words
    vad_start_secs: float
    vad_stop_secs: float
    vad_confidence: float
    smart_turn_max_wait_secs: float
    segmented_stt_wait_secs: float
    streaming_stt_final_secs: float
    early_transcription_secs: float
    finished_sentence_grace_secs: float
    fragment_hold_secs: float
    finished_sentence_quiet_secs: float
    early_guess_quiet_secs: float
    speaking_again_secs: float
    untranscribed_speech_secs: float
    speculative_generation: bool

    @property
    def stt_final_wait_secs(self) -> float:
        """How long after the end of speech the turn waits for the STT's final words, at most."""
        return self.vad_stop_secs + (self.segmented_stt_wait_secs if self.segmented_stt else self.streaming_stt_final_secs)


class Settings(BaseSettings):
    """Everything configurable; every field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Server
    host: str = _setting("Server", "0.0.0.0", "Interface the server listens on")
    port: int = _setting("Server", 8000, "Port the server listens on", ge=1, le=65535)
    public_url: str | None = _setting(
        "Server", None, "Public base URL Twilio reaches, e.g. https://agent.example.com (Twilio signs this URL)")
    data_dir: Path = _setting("Server", Path("data"), "Folder for the SQLite database and the vector store")
    log_level: LogLevel = _setting("Server", "INFO", "Log level")
    workers: int = _setting(
        "Server", 1, "Server processes taking calls on the one port, each loading the models once; above 1 they share "
        "limits and stream tokens through Redis (REDIS_URL, else a private redis-server) (docs/operations.md)", ge=1)
    max_call_secs: float = _setting("Server", 1800.0, "A call is ended politely after this long", gt=0)
    drain_secs: float = _setting(
        "Server", 300.0, "On SIGTERM, calls in progress may go on this long (new calls hear the busy line)", ge=0)
    shutdown_grace_secs: float = _setting(
        "Server", 15.0, "After the drain, calls get this long to say the closing line, end and save their records "
        "before they are cancelled", ge=0)
    inbound_chunk_ms: int = _setting(
        "Server", 40, "Caller audio enters the call's pipeline in chunks this long (Twilio sends 20 ms frames): "
        "every processor then handles fewer frames; at most this minus 20 ms later", ge=20, le=200, multiple_of=20)
    quiet_chunk_ms: int = _setting(
        "Server", 200, "After two seconds of a quiet line (too quiet for the VAD to call speech), caller audio enters "
        "the pipeline in chunks this long; the first louder frame goes on at once. 0: always INBOUND_CHUNK_MS",
        ge=0, le=1000, multiple_of=20)
    outbound_chunk_ms: int = _setting(
        "Server", 40, "The agent's audio goes to Twilio in messages this long (Pipecat's default is 40)",
        ge=20, le=200, multiple_of=10)

    # Business
    business_name: str = _setting("Business", "ByteAI", "Name the agent answers for")
    business_timezone: str = _setting("Business", "America/New_York", "Time zone of the opening hours (IANA name)")
    business_open_hour: int = _setting("Business", 9, "First bookable hour of the day", ge=0, le=23)
    business_close_hour: int = _setting("Business", 17, "Hour appointments must end by", ge=1, le=24)
    business_days: str = _setting("Business", "mon,tue,wed,thu,fri", "Open days, comma-separated")
    appointment_minutes: int = _setting("Business", 30, "Length of one appointment", gt=0, le=480)
    transfer_number: str | None = _setting(
        "Business", None, "Number a live call is transferred to when the caller wants a human")

    # Storage and knowledge
    database_url: str | None = _setting(
        "Storage", None, "SQLAlchemy URL (PostgreSQL for several instances); default: SQLite in DATA_DIR")
    faq_path: Path | None = _setting("Storage", None, "FAQ JSON to serve; default: the packaged ByteAI FAQ")
    chroma_url: str | None = _setting(
        "Storage", None, "Chroma server (`chroma run`) holding the knowledge base for several instances, e.g. "
        "http://chroma:8000; default: an embedded store in DATA_DIR")

    # Twilio
    twilio_account_sid: str | None = _setting("Twilio", None, "Account SID, for hang-up and transfer over REST")
    twilio_auth_token: SecretStr | None = _setting(
        "Twilio", None, "Auth token: turns on X-Twilio-Signature checks and REST call control")
    twilio_api_base_url: str | None = _setting("Twilio", None, "Another REST host (a local emulator in tests)")

    # Security: who may open a call, and who may read the metrics (docs/security.md)
    stream_token_secret: SecretStr | None = _setting(
        "Security", None, "Signs the per-call stream tokens; set the same value on every instance (default: random "
        "per process, so a token works only on the instance whose webhook minted it)")
    stream_token_ttl_secs: float = _setting(
        "Security", 60.0, "A stream token must open its media stream within this long after the webhook", gt=0, le=3600)
    metrics_token: SecretStr | None = _setting(
        "Security", None, "When set, /metrics needs `Authorization: Bearer <token>` (401 otherwise)")
    console_token: SecretStr | None = _setting(
        "Security", None, "Opens the call console (/console) and the softphone (/phone) to whoever sends it "
        "(`Authorization: Bearer`, or `?token=` once, kept in an HttpOnly cookie); unset: both open on localhost only "
        "(docs/browser.md)")
    trusted_proxies: str | None = _setting(
        "Security", None, "Comma-separated IPs or CIDRs of proxies whose X-Forwarded-For names the client (default: "
        "none, the socket peer is the client)")

    # Limits: abuse and capacity (docs/security.md)
    rate_limit_per_minute: int = _setting(
        "Limits", 100, "HTTP requests and WebSocket upgrades per client IP per minute (429 beyond)", ge=1)
    calls_per_number_per_hour: int = _setting(
        "Limits", 100, "Calls per caller number per hour; beyond, the webhook says so and hangs up", ge=1)
    max_concurrent_calls: int = _setting(
        "Limits", 10, "Calls at the same time (across instances with REDIS_URL); beyond, callers hear a busy line",
        ge=1)
    redis_url: str | None = _setting(
        "Limits", None, "Redis (redis://, rediss:// or unix://) shared by several instances: rate limits, call "
        "counts and used stream tokens; default: in memory, per process")

    # Secrets: read from a secrets backend at start-up and refreshed while serving (docs/deploy.md)
    secrets_backend: Literal["env", "gcp"] = _setting(
        "Secrets", "env", "env (environment and .env only) or gcp (Google Secret Manager, over REST)")
    gcp_project: str | None = _setting("Secrets", None, "Google Cloud project of the secrets (SECRETS_BACKEND=gcp)")
    gcp_secrets: str = _setting(
        "Secrets", "TWILIO_AUTH_TOKEN,STREAM_TOKEN_SECRET,METRICS_TOKEN", "Comma-separated secret settings read from "
        "Secret Manager; each is the secret named in lower-kebab case (TWILIO_AUTH_TOKEN -> twilio-auth-token)")
    gcp_secrets_endpoint: str | None = _setting(
        "Secrets", None, "Secret Manager REST endpoint (a local emulator in tests); default: Google's")
    secrets_refresh_secs: float = _setting(
        "Secrets", 300.0, "New secret versions are read this often and used by new calls and requests (0: never)",
        ge=0)

    # Providers: explicit choice per part; auto = the cloud vendor when its key is set, else embedded
    stt_provider: SttProvider = _setting("Providers", "auto", "Speech-to-text")
    llm_provider: LlmProvider = _setting("Providers", "auto", "The brain: the offline engine or an LLM")
    tts_provider: TtsProvider = _setting("Providers", "auto", "Text-to-speech")
    embeddings_provider: EmbeddingsProvider = _setting(
        "Providers", "auto", "Knowledge-base embeddings (embedded = minilm)")
    pipeline_profile: Literal["tuned", "stock"] = _setting(
        "Providers", "tuned", "tuned (this project's settings) or stock (Pipecat's defaults, for the bench)")

    # Cloud vendors
    deepgram_api_key: SecretStr | None = _setting("Cloud vendors", None, "Deepgram key (STT)")
    deepgram_base_url: str | None = _setting("Cloud vendors", None, "Deepgram host (an emulator in tests)")
    deepgram_model: str = _setting("Cloud vendors", "nova-2", "Deepgram model")
    anthropic_api_key: SecretStr | None = _setting("Cloud vendors", None, "Anthropic key (Claude as the LLM)")
    anthropic_base_url: str | None = _setting("Cloud vendors", None, "Anthropic host (an emulator in tests)")
    anthropic_model: str = _setting("Cloud vendors", "claude-sonnet-4-6", "Claude model")
    openai_api_key: SecretStr | None = _setting("Cloud vendors", None, "OpenAI key (embeddings)")
    openai_base_url: str | None = _setting("Cloud vendors", None, "OpenAI host (an emulator in tests)")
    openai_embedding_model: str = _setting("Cloud vendors", "text-embedding-3-small", "OpenAI embedding model")
    openai_llm_model: str | None = _setting(
        "Cloud vendors", None, "Model of an OpenAI-compatible chat server (vLLM, llama.cpp, Ollama) as the LLM")
    openai_llm_base_url: str | None = _setting(
        "Cloud vendors", None, "That server's base URL; default: OPENAI_BASE_URL")
    openai_llm_api_key: SecretStr | None = _setting(
        "Cloud vendors", None, "That server's key; default: OPENAI_API_KEY ('not-needed' for local servers)")
    elevenlabs_api_key: SecretStr | None = _setting("Cloud vendors", None, "ElevenLabs key (TTS)")
    elevenlabs_base_url: str | None = _setting("Cloud vendors", None, "ElevenLabs host (an emulator in tests)")
    elevenlabs_model: str = _setting("Cloud vendors", "eleven_turbo_v2_5", "ElevenLabs model")
    elevenlabs_voice_id: str = _setting("Cloud vendors", "21m00Tcm4TlvDq8ikWAM", "ElevenLabs voice (Rachel)")
    llm_timeout_secs: float = _setting(
        "Cloud vendors", 10.0, "An LLM request that produces nothing this long falls back to a human", gt=0)
    llm_max_retries: int = _setting("Cloud vendors", 2, "SDK retries of an LLM request (429, 529, 5xx)", ge=0)

    # Embedded models
    whisper_threads: int = _setting("Embedded models", 2, "CPU threads of the Whisper decoder", ge=1)
    # Beam 5 against greedy (docs/understanding.md): word accuracy 89.4% -> 91.0% over seven voices, the noisy and
    # slow ones most (slt-slow-noisy 74.5 -> 81.4%); each decode ~18% longer (~+0.05 s median reply).
    whisper_beam_size: int = _setting("Embedded models", 5, "Whisper beam size of the caller's transcription "
                                      "(1 = greedy: ~0.05 s faster replies, fewer words right)", ge=1)

    # Turn-taking (seconds). Pauses shorter than the VAD stop stay inside one turn.
    vad_start_secs: float = _setting("Turn-taking", 0.2, "Speech before the VAD reports the caller started", gt=0)
    vad_stop_secs: float | None = _setting(
        "Turn-taking", None, "Silence before the VAD reports a stop; default 0.55 with the embedded STT, 0.25 "
        "with a streaming one", gt=0)
    vad_confidence: float = _setting("Turn-taking", 0.7, "VAD speech confidence", gt=0, lt=1)
    smart_turn_max_wait_secs: float = _setting(
        "Turn-taking", 1.2, "Longest wait when the turn model calls a sentence unfinished", gt=0)
    segmented_stt_wait_secs: float = _setting(
        "Turn-taking", 12.0, "Embedded STT: longest wait for the last segment's transcript (a busy machine)", gt=0)
    streaming_stt_final_secs: float = _setting(
        "Turn-taking", 0.35, "Streaming STT: longest wait past the VAD stop for a final transcript", gt=0)
    early_transcription_secs: float = _setting(
        "Turn-taking", 0.25, "Embedded STT: quiet before it starts transcribing, ahead of the VAD stop", ge=0)
    finished_sentence_grace_secs: float = _setting(
        "Turn-taking", 0.2, "Embedded STT: quiet after a punctuated final that ends the turn", gt=0)
    fragment_hold_secs: float = _setting(
        "Turn-taking", 0.6, "Embedded STT: caller audio after a final that trails off ('and what about') before "
        "the turn model's 'finished' may end the turn", ge=0)
    finished_sentence_quiet_secs: float = _setting(
        "Turn-taking", 0.5, "Streaming STT: quiet after a final that does not trail off that ends the turn", gt=0)
    early_guess_quiet_secs: float = _setting(
        "Turn-taking", 0.12, "Quiet before an LLM answers the words heard so far speculatively", gt=0)
    speaking_again_secs: float = _setting(
        "Turn-taking", 0.15, "Loud caller audio this recent means the caller is speaking now", gt=0)
    untranscribed_speech_secs: float = _setting(
        "Turn-taking", 0.15, "Speech after the last final that makes it stale (its words are on the way)", gt=0)
    speculative_generation: bool = _setting(
        "Turn-taking", True, "LLM brains start answering before the turn is certain to have ended")

    # Call flow
    hangup_after_goodbye_secs: float = _setting(
        "Call flow", 2.0, "Caller silence after the closing line before the agent hangs up", ge=0)
    idle_hangup_secs: float = _setting(
        "Call flow", 20.0, "Silence on both sides before the agent says goodbye and hangs up, on every brain; it asks "
        "\"are you still there?\" at half this time (0 = never)", ge=0)
    cue_after_secs: float = _setting(
        "Call flow", 0.3, "LLM brains: a lookup still running this long after the caller's turn gets a listening cue "
        "(a tool call gets one at once)", gt=0)
    sms_from: str | None = _setting(
        "Call flow", None, "Number (E.164) the booking confirmation text is sent from through Twilio's Messages API; "
        "needs the Twilio credentials (unset = no text, and the agent promises none)", pattern=r"^\+[1-9]\d{6,14}$")

    # Recordings (docs/recordings.md)
    record_calls: bool = _setting(
        "Recordings", False, "Record both sides of every call (the greeting tells the caller), encrypted with "
        "RECORDING_KEY into DATA_DIR/recordings")
    recording_key: SecretStr | None = _setting(
        "Recordings", None, "AES-256-GCM key new recordings are encrypted with: base64 of 32 random bytes "
        "(`voiceagent recordings new-key`); required when RECORD_CALLS=true")
    recording_key_id: str = _setting(
        "Recordings", "k1", "Name of RECORDING_KEY, written in each file's header; give each new key a new id",
        pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    recording_old_keys: SecretStr | None = _setting(
        "Recordings", None, "Earlier keys, still used to read older recordings after a rotation: "
        "`id:base64,id:base64`")

    # Privacy: how long personal data is kept, and finding a caller's data (docs/privacy.md)
    retention_days: int = _setting(
        "Privacy", 30, "Call records, support tickets, appointments and recordings are deleted this many days after "
        "they ended (appointments: after their slot)", ge=1, le=3650)
    retention_interval_secs: float = _setting(
        "Privacy", 3600.0, "The server deletes what is past RETENTION_DAYS at start-up and then this often",
        ge=1, le=7 * 86400)
    data_hash_secret: SecretStr | None = _setting(
        "Privacy", None, "Key of the HMAC-SHA256 of the caller's number kept with each call record, so `voiceagent "
        "data export/delete` find a caller's calls; set the same value on every instance sharing a database "
        "(default: a random key created once in DATA_DIR/data_hash_secret)")

    @field_validator("stt_provider", "llm_provider", "tts_provider", "embeddings_provider", mode="before")
    @classmethod
    def _provider_name(cls, value: Any) -> Any:
        return (value.strip().lower() or "auto") if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str | None) -> str | None:
        for item in filter(None, (part.strip() for part in (value or "").split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("chroma_url")
    @classmethod
    def _chroma_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _chosen_providers_are_configured(self) -> Settings:
        needs = {
            ("stt", "deepgram"): ("deepgram_api_key",),
            ("llm", "anthropic"): ("anthropic_api_key",),
            ("llm", "openai"): ("openai_llm_model",),
            ("tts", "elevenlabs"): ("elevenlabs_api_key",),
            ("embeddings", "openai"): ("openai_api_key",),
        }
        for (part, provider), fields in needs.items():
            if getattr(self, f"{part}_provider") == provider:
                missing = [name.upper() for name in fields if not getattr(self, name)]
                if missing:
                    raise ValueError(f"{part.upper()}_PROVIDER={provider} needs {', '.join(missing)}")
        if self.business_close_hour <= self.business_open_hour:
            raise ValueError("BUSINESS_CLOSE_HOUR must be after BUSINESS_OPEN_HOUR")
        if self.secrets_backend == "gcp" and not self.gcp_project:
            raise ValueError("SECRETS_BACKEND=gcp needs GCP_PROJECT")
        return self

    @model_validator(mode="after")
    def _recording_keys_are_usable(self) -> Settings:
        # A model validator: its errors never echo the value, and these values are keys.
        keys = self.recording_keyring()
        if self.record_calls and self.recording_key_id not in keys:
            raise ValueError("RECORD_CALLS=true needs RECORDING_KEY: base64 of 32 random bytes "
                             "(make one with `voiceagent recordings new-key` or `openssl rand -base64 32`)")
        return self

    def recording_keyring(self) -> dict[str, bytes]:
        """Every configured recording key by id (the current one and RECORDING_OLD_KEYS); ValueError if malformed."""
        keys: dict[str, bytes] = {}
        old = self.recording_old_keys.get_secret_value() if self.recording_old_keys else ""
        for item in filter(None, (part.strip() for part in old.split(","))):
            key_id, _, encoded = item.partition(":")
            key_id = key_id.strip()
            if not encoded or not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", key_id):
                raise ValueError("RECORDING_OLD_KEYS must be `id:base64,id:base64` (ids of letters, digits, . _ -)")
            keys[key_id] = _recording_key(encoded, f"RECORDING_OLD_KEYS (key {key_id!r})")
        if self.recording_key is not None:
            keys[self.recording_key_id] = _recording_key(self.recording_key.get_secret_value(), "RECORDING_KEY")
        return keys

    @property
    def turn_stop_secs(self) -> float:
        """Silence before VAD reports the caller stopped (smart-turn then decides if the turn is over).

        0.55 s with the embedded STT, which transcribes each segment at that stop, so a shorter stop splits
        sentences at their pauses; 0.25 s with a streaming STT, whose words are already in when VAD stops
        (measured: cloud stack median response 2.08 s -> 1.78 s). Pipecat's default 0.2 s in the stock profile.
        """
        if self.pipeline_profile == "stock":
            return 0.2
        if self.vad_stop_secs is not None:
            return self.vad_stop_secs
        return 0.55 if self.resolved_provider("stt") == "embedded" else 0.25

    @property
    def turn_taking(self) -> TurnTaking:
        """The turn-taking thresholds for this stack and profile, as one object."""
        stock = self.pipeline_profile == "stock"
        return TurnTaking(
            stock=stock, segmented_stt=self.resolved_provider("stt") == "embedded",
            vad_start_secs=self.vad_start_secs, vad_stop_secs=self.turn_stop_secs, vad_confidence=self.vad_confidence,
            smart_turn_max_wait_secs=self.smart_turn_max_wait_secs,
            segmented_stt_wait_secs=self.segmented_stt_wait_secs,
            streaming_stt_final_secs=self.streaming_stt_final_secs,
            early_transcription_secs=0.0 if stock else self.early_transcription_secs,
            finished_sentence_grace_secs=self.finished_sentence_grace_secs,
            fragment_hold_secs=0.0 if stock else self.fragment_hold_secs,
            finished_sentence_quiet_secs=self.finished_sentence_quiet_secs,
            early_guess_quiet_secs=self.early_guess_quiet_secs, speaking_again_secs=self.speaking_again_secs,
            untranscribed_speech_secs=self.untranscribed_speech_secs,
            speculative_generation=self.speculative_generation and not stock,
        )

    @property
    def pipeline_rates(self) -> tuple[int, int]:
        """(input, output) sample rates: the phone's 8 kHz end to end, or Pipecat's defaults when stock."""
        return STOCK_RATES if self.pipeline_profile == "stock" else (PHONE_SAMPLE_RATE, PHONE_SAMPLE_RATE)

    @property
    def pipeline_inbound_chunk_ms(self) -> int:
        """Caller audio per frame entering the pipeline: INBOUND_CHUNK_MS, or Twilio's own 20 ms when stock."""
        return TWILIO_FRAME_MS if self.pipeline_profile == "stock" else self.inbound_chunk_ms

    @property
    def pipeline_quiet_chunk_ms(self) -> int:
        """Caller audio per frame on a quiet line: QUIET_CHUNK_MS, or 0 (no change on quiet) when stock."""
        return 0 if self.pipeline_profile == "stock" else self.quiet_chunk_ms

    @property
    def pipeline_outbound_chunk_ms(self) -> int | None:
        """Agent audio per frame the transport sends: OUTBOUND_CHUNK_MS, or None (Pipecat's own) when stock."""
        return None if self.pipeline_profile == "stock" else self.outbound_chunk_ms

    @property
    def service_sample_rate(self) -> int | None:
        """The rate a vendor service is asked for: the phone's, or None (the pipeline's) when stock."""
        return None if self.pipeline_profile == "stock" else PHONE_SAMPLE_RATE

    @property
    def database_location(self) -> str:
        """SQLAlchemy URL of the database; an SQLite file in the data directory by default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'voiceagent.db').resolve()}"

    def resolved_provider(self, part: str) -> str:
        """Which provider a part ('stt', 'llm', 'tts', 'embeddings') uses: 'embedded' or a vendor."""
        explicit = getattr(self, f"{part}_provider")
        if explicit != "auto":
            return explicit
        if part == "llm" and not self.anthropic_api_key and self.openai_llm_model:
            return "openai"
        vendor, key = {
            "stt": ("deepgram", self.deepgram_api_key),
            "llm": ("anthropic", self.anthropic_api_key),
            "tts": ("elevenlabs", self.elevenlabs_api_key),
            "embeddings": ("openai", self.openai_api_key),
        }[part]
        return vendor if key else "embedded"

    def stack_summary(self) -> dict[str, str]:
        """Which provider each part uses; safe to log (no keys)."""
        return {part: self.resolved_provider(part) for part in PARTS}


def _recording_key(encoded: str, name: str) -> bytes:
    """A 32-byte AES key from base64; the message names the setting, never the value."""
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name} is not valid base64") from None
    if len(key) != 32:
        raise ValueError(f"{name} must be 32 bytes (AES-256), base64-encoded; it decodes to {len(key)} bytes")
    return key


def default_turn_taking() -> TurnTaking:
    """The turn-taking thresholds of the defaults (no environment read), for strategies built on their own."""
    return Settings.model_construct().turn_taking


def describe_invalid_settings(error: ValidationError) -> list[str]:
    """One line per bad setting, naming its environment variable, the value given and what it accepts."""
    lines = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]).upper()
        given = problem.get("input")
        given_text = "" if isinstance(given, dict) or given is None else f"={given!r}"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{name}{given_text}: {message}" if name else message)
    return lines


class InvalidSettings(SystemExit):
    """Start-up stops: the message names each bad variable and what it accepts."""


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a bad value stops the process with a message, not a traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = "\n".join(f"  {line}" for line in describe_invalid_settings(error))
        raise InvalidSettings(f"Invalid settings (environment or .env):\n{lines}") from None


# The configuration reference (docs/configuration.md), rendered from the fields above.

REFERENCE_COMMAND = "voiceagent config > docs/configuration.md"
_TYPE_NAMES = {str: "text", int: "integer", float: "number", bool: "true, false", Path: "path", SecretStr: "text"}
_BOUNDS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}


def _without_none(annotation: Any) -> Any:
    """`X | None` -> X; any other annotation unchanged."""
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if type(None) in get_args(annotation) and len(args) == 1:
        return args[0]
    return annotation


def _allowed(field: FieldInfo) -> str:
    """What a field accepts: its Literal values, else its type's name with the field's numeric bounds."""
    annotation = _without_none(field.annotation)
    if get_origin(annotation) is Literal:
        return ", ".join(str(value) for value in get_args(annotation))
    name = _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))
    bounds = [f"{symbol} {getattr(constraint, key)}" for constraint in field.metadata
              for key, symbol in _BOUNDS.items() if getattr(constraint, key, None) is not None]
    return f"{name} {', '.join(bounds)}" if bounds else name


def _default(field: FieldInfo) -> str:
    """A field's default as it is written in the environment; secrets are never shown."""
    if _without_none(field.annotation) is SecretStr:
        return "(secret, unset)" if field.default is None else "(secret)"
    if field.default is None:
        return "unset"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    return f"`{field.default}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_reference_markdown() -> str:
    """docs/configuration.md: one table per settings group, in the order the fields are declared."""
    groups: dict[str, list[str]] = {}
    for name, field in Settings.model_fields.items():
        group = (field.json_schema_extra or {}).get("group", "Other")
        groups.setdefault(group, []).append(
            f"| `{name.upper()}` | {_default(field)} | {_cell(_allowed(field))} | {_cell(field.description or '')} |")
    lines = [
        f"_Generated by `{REFERENCE_COMMAND}` from `Settings` in src/voiceagent/config.py; do not edit by hand._",
        "",
        "# Configuration",
        "",
        "Every setting is an environment variable, read from the environment or from `.env` in the working "
        "directory. Values are typed and checked at start-up: a bad one stops the server with a line naming the "
        "variable and what it accepts. Secrets are never printed or logged.",
        "",
        "A part whose provider is `auto` uses its cloud vendor when that vendor's key is set, else the embedded "
        "model; an `auto` LLM is the OpenAI-compatible server when `OPENAI_LLM_MODEL` is set and "
        "`ANTHROPIC_API_KEY` is not. "
        "Start-up logs which provider each part uses.",
    ]
    for group, rows in groups.items():
        lines += ["", f"## {group}", "", "| Variable | Default | Allowed | Description |", "|---|---|---|---|", *rows]
    return "\n".join(lines) + "\n"
