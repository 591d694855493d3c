"""Everything one call accumulates: transcript, what was heard, per-turn timings, outcome."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from voiceagent.shared.redact import names_introduced, redact_phone, redact_text, watch_names
from voiceagent.shared.usage import ProviderUsage


@dataclass
class TurnTiming:
    """Monotonic timestamps (seconds) of one caller turn; None when that stage did not happen."""

    caller_speech_end: float | None = None
    end_of_turn: float | None = None
    stt_final: float | None = None
    retrieval_done: float | None = None  # LLM brain: FAQ hits in the context (the offline engine retrieves inside)
    brain_first_text: float | None = None  # the LLM's first token (or the offline engine's first sentence)
    tts_text_sent: float | None = None  # first text handed to TTS
    tts_first_audio: float | None = None
    first_audio_sent: float | None = None  # first audio frame written to Twilio
    heard_end: float | None = None  # the caller finished hearing the reply (the last mark Twilio echoed)

    @property
    def response_latency(self) -> float | None:
        if self.caller_speech_end is None or self.first_audio_sent is None:
            return None
        return self.first_audio_sent - self.caller_speech_end


@dataclass
class CallRecord:
    """One call's state, shared by the processors of its pipeline."""

    call_sid: str | None = None
    stream_sid: str | None = None
    caller: str | None = None  # full number: only for tools, never logged
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    outcome: str | None = None
    transcript: list[dict] = field(default_factory=list)
    turns: list[TurnTiming] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)
    closing: bool = False
    escalated: bool = False
    usage: ProviderUsage = field(default_factory=ProviderUsage)
    cost_usd: float = 0.0
    personal_names: set[str] = field(default_factory=set)  # names given to tools: never stored in the transcript
    _unheard: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        watch_names(self)  # a name learnt during the call is masked in every log line from then on

    @property
    def caller_redacted(self) -> str:
        return redact_phone(self.caller)

    def caller_said(self, text: str) -> None:
        self.personal_names.update(names_introduced(text))  # "my name is ...": masked in the agent's replies too
        self.transcript.append({"role": "caller", "text": text, "at": time.time()})

    def agent_sent(self, text: str) -> None:
        self.transcript.append({"role": "agent", "text": text, "at": time.time(), "heard": None})

    def _agent_entry(self, text: str) -> dict | None:
        for entry in reversed(self.transcript):
            if entry["role"] == "agent" and entry["text"] == text and entry["heard"] is None:
                return entry
        return None

    def agent_heard(self, text: str) -> None:
        entry = self._agent_entry(text)
        if entry:
            entry["heard"] = True

    def agent_unheard(self, text: str) -> None:
        entry = self._agent_entry(text)
        if entry:
            entry["heard"] = False
        self._unheard.append(text)

    def peek_unheard(self) -> list[str]:
        return list(self._unheard)

    def take_unheard(self) -> list[str]:
        unheard, self._unheard = self._unheard, []
        return unheard

    def conversation(self) -> list[dict]:
        """Transcript as the caller experienced it (unheard agent speech left out)."""
        return [
            {"role": e["role"], "text": e["text"]}
            for e in self.transcript
            if e["role"] == "caller" or e.get("heard") is not False
        ]

    def redacted_transcript(self) -> list[dict]:
        return [{**e, "text": redact_text(e["text"], self.personal_names)} for e in self.transcript]
