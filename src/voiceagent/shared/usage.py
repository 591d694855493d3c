"""Provider usage per call (STT seconds, LLM tokens, TTS characters) and its estimated cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# The plan's price table (USD). Embedded providers cost nothing but the phone line.
PRICES = {
    "twilio_per_minute": 27 / 9000,
    "deepgram_per_minute": 0.0043,
    "anthropic_input_per_token": 3 / 1e6,
    "anthropic_cached_input_per_token": 0.3 / 1e6,
    "anthropic_output_per_token": 15 / 1e6,
    "elevenlabs_per_character": 0.18 / 1000,
}


@dataclass
class ProviderUsage:
    stt_seconds: float = 0.0
    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    llm_cached_tokens: int = 0
    tts_characters: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def estimated_cost(self, stack: dict[str, str], call_seconds: float) -> float:
        """USD for one call with the given stack, from the plan's prices."""
        cost = call_seconds / 60 * PRICES["twilio_per_minute"]
        if stack.get("stt") == "deepgram":
            cost += self.stt_seconds / 60 * PRICES["deepgram_per_minute"]
        if stack.get("llm") in ("anthropic", "openai"):
            uncached = max(0, self.llm_input_tokens - self.llm_cached_tokens)
            cost += uncached * PRICES["anthropic_input_per_token"]
            cost += self.llm_cached_tokens * PRICES["anthropic_cached_input_per_token"]
            cost += self.llm_output_tokens * PRICES["anthropic_output_per_token"]
        if stack.get("tts") == "elevenlabs":
            cost += self.tts_characters * PRICES["elevenlabs_per_character"]
        return round(cost, 6)
