"""`voiceagent eval stt`: word accuracy (1 - WER) of the embedded STT on caller lines spoken by several voices
through the phone line's 8 kHz mu-law encode/decode."""

from __future__ import annotations

from dataclasses import dataclass, field

import jiwer
import numpy as np
import soxr

from voiceagent.evals.text import normalise
from voiceagent.simulate.audio import SAMPLE_RATE, mulaw_decode, mulaw_encode

# What callers of ByteAI say where a wrong word costs: brand and plan names, prices, times, digits.
LINES = [
    "How much does the Pro plan cost per month?",
    "Is the Business plan two hundred ninety nine dollars a month?",
    "Does ByteAI integrate with Slack and HubSpot?",
    "I'd like to book a demo for Tuesday at two thirty in the afternoon.",
    "Can I talk to a real person, please?",
    "My phone number is five five five, one two three, four five six seven.",
    "What's the difference between the Starter plan and the Pro plan?",
    "Do you have a free trial for fourteen days?",
    "Can I move my appointment to Friday at ten?",
    "Yes, that's correct. Please book it.",
    "I was charged ninety nine dollars twice this month.",
    "How many calls are included in the Business plan?",
]
# Written on 2026-11-28 before any decoder setting was tried on them, and never used to choose one: the lines
# above were, over several sessions (beam, hotwords, fallbacks), so their score flatters the decoder.
HELD_OUT_LINES = [
    "Can you tell me what the Starter plan includes?",
    "Is there a discount if I pay for a whole year?",
    "Does ByteAI work with Zendesk and Shopify?",
    "I need to cancel my appointment on Thursday.",
    "Could you book me in for Monday at nine thirty in the morning?",
    "My name is Sarah Johnson.",
    "How do I reset my password?",
    "No, I said Wednesday, not Tuesday.",
    "Is my data stored in Europe?",
    "Can the assistant answer calls in Spanish?",
    "What time does your support team close on Fridays?",
    "I'd like to upgrade from Pro to Business.",
]
ALL_LINES = LINES + HELD_OUT_LINES
DEFAULT_VOICES = ["piper", "slt", "rms", "awb", "espeak-us", "slt-slow-noisy", "rms-fast-noisy"]


@dataclass
class VoiceScore:
    """Word accuracy of one voice over every line."""

    voice: str
    references: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)

    @property
    def wer(self) -> float:
        return jiwer.wer(self.references, self.heard) if self.references else 0.0

    @property
    def accuracy(self) -> float:
        return 1.0 - self.wer

    def part(self, start: int, stop: int | None = None) -> VoiceScore:
        """The score over lines start..stop only (e.g. the held-out ones)."""
        return VoiceScore(self.voice, self.references[start:stop], self.heard[start:stop])

    def mistakes(self) -> list[tuple[str, str]]:
        return [(said, heard) for said, heard in zip(self.references, self.heard) if said != heard]


def over_the_phone(pcm: np.ndarray) -> np.ndarray:
    """8 kHz int16 -> mu-law bytes -> 8 kHz int16 -> float32 16 kHz, as a call's audio reaches the STT."""
    line = mulaw_decode(mulaw_encode(pcm)).astype(np.float32) / 32768.0
    return soxr.resample(line, SAMPLE_RATE, 16000).astype(np.float32)


def score_voice(name: str, voice, transcribe, lines: list[str] = ALL_LINES) -> VoiceScore:
    """Speak each line with `voice` (8 kHz int16 out), send it through the phone path and transcribe it."""
    score = VoiceScore(name)
    for line in lines:
        heard = transcribe(over_the_phone(voice.say(line)))
        score.references.append(normalise(line))
        score.heard.append(normalise(heard) or "<nothing>")
    return score
