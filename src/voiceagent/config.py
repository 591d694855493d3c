"""Settings from environment variables or `.env`; decides which stack (cloud or embedded) runs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["auto", "embedded", "cloud"]


class Settings(BaseSettings):
    """Everything configurable; every field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Server
    host: str = "0.0.0.0"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="Public base URL Twilio reaches, e.g. https://agent.example.com"
    )
    data_dir: Path = Path("data")
    log_level: str = "INFO"

    # Business
    business_name: str = "ByteAI"
    business_timezone: str = "America/New_York"
    business_open_hour: int = 9
    business_close_hour: int = 17
    business_days: str = "mon,tue,wed,thu,fri"
    appointment_minutes: int = 30
    transfer_number: str | None = None

    # Storage and knowledge
    database_url: str | None = None  # default: SQLite file under data_dir
    faq_path: Path | None = None  # default: the packaged ByteAI FAQ

    # Twilio
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_base_url: str | None = None  # e.g. a local emulator

    # Provider keys and base URLs (cloud stack)
    deepgram_api_key: SecretStr | None = None
    deepgram_base_url: str | None = None
    deepgram_model: str = "nova-2"
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    anthropic_model: str = "claude-sonnet-4-5"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_embedding_model: str = "text-embedding-3-small"
    # An OpenAI-compatible chat-completions server (vLLM, llama.cpp's server, Ollama) as the LLM
    openai_llm_model: str | None = None
    openai_llm_base_url: str | None = None  # default: openai_base_url
    openai_llm_api_key: SecretStr | None = None  # default: openai_api_key ("not-needed" for local servers)
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_base_url: str | None = None
    elevenlabs_model: str = "eleven_turbo_v2_5"
    elevenlabs_voice_id: str = "21m00Tcm4TlvDq8ikWAM"  # "Rachel"

    # Explicit provider choice per part: auto = cloud when its key is set
    stt_provider: str = "auto"
    llm_provider: str = "auto"
    tts_provider: str = "auto"
    embeddings_provider: str = "auto"

    # "tuned" (this project's settings) or "stock" (Pipecat's defaults, kept for comparison in the bench)
    pipeline_profile: Literal["tuned", "stock"] = "tuned"

    # Turn-taking (seconds). Pauses shorter than vad_stop_secs stay inside one turn.
    vad_start_secs: float = 0.2
    vad_stop_secs: float | None = None  # default: see `turn_stop_secs`
    vad_confidence: float = 0.7
    smart_turn_max_wait_secs: float = 1.2
    # An LLM brain starts answering the words heard so far as soon as the caller's audio goes quiet after a
    # finished sentence (before the VAD's stop and the turn model's verdict); the answer is held and kept only if
    # the turn ends with the same words (see call/speculation.py). Cloud bench: median 1.24 -> 0.94 s, 8 of 10
    # guesses kept, none discarded. Never in the bench's stock profile.
    speculative_generation: bool = True
    hangup_after_goodbye_secs: float = 2.0
    max_call_secs: float = 1800.0
    shutdown_grace_secs: float = 10.0  # on shutdown, calls get this long to end and save their records

    # Embedded models
    whisper_threads: int = 2
    whisper_beam_size: int = 1

    # LLM resilience (the plan: give up after 10 s; the SDK retries 429/529/5xx with backoff)
    llm_timeout_secs: float = 10.0
    llm_max_retries: int = 2

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
    def database_location(self) -> str:
        """SQLAlchemy URL of the database; an SQLite file in the data directory by default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'voiceagent.db').resolve()}"

    def resolved_provider(self, part: str) -> str:
        """Which provider a part ('stt', 'llm', 'tts', 'embeddings') uses: 'embedded' or a vendor."""
        explicit = getattr(self, f"{part}_provider").lower()
        if explicit not in ("auto", ""):
            return explicit
        keyed = {
            "stt": ("deepgram", self.deepgram_api_key),
            "llm": ("anthropic", self.anthropic_api_key),
            "tts": ("elevenlabs", self.elevenlabs_api_key),
            "embeddings": ("openai", self.openai_api_key),
        }[part]
        if part == "llm" and not self.anthropic_api_key and self.openai_llm_model:
            return "openai"
        return keyed[0] if keyed[1] else "embedded"

    def stack_summary(self) -> dict[str, str]:
        """Which provider each part uses; safe to log (no keys)."""
        return {part: self.resolved_provider(part) for part in ("stt", "llm", "tts", "embeddings")}
