"""The embedded voice reuses clauses it has already spoken (greeting, cues, FAQ answers) within a byte budget."""

from __future__ import annotations

from dataclasses import dataclass

from voiceagent.providers.audio_cache import AudioCache
from voiceagent.providers.piper import CACHED_CLAUSE_CHARS
from voiceagent.providers.speech_models import SpeechModels


@dataclass
class Chunk:
    audio_int16_bytes: bytes
    sample_rate: int = 22050


class CountingVoice:
    def __init__(self):
        self.spoken: list[str] = []

    def synthesize(self, text):
        self.spoken.append(text)
        yield Chunk(bytes(2 * 100 * len(text)))


def test_a_clause_said_again_is_not_synthesised_again():
    voice = CountingVoice()
    models = SpeechModels(whisper=None, piper_voice=voice)
    first = models.synthesize("Is there anything else I can help with today?")
    again = models.synthesize(" Is there anything else I can help with today? ")
    assert again == first and voice.spoken == ["Is there anything else I can help with today?"]
    long_text = "x" * (CACHED_CLAUSE_CHARS + 1)
    models.synthesize(long_text)
    models.synthesize(long_text)
    assert voice.spoken.count(long_text) == 2  # long one-off text is not kept


def test_the_least_recently_used_clauses_leave_past_the_byte_limit():
    voice = CountingVoice()
    models = SpeechModels(whisper=None, piper_voice=voice, speech_cache=AudioCache(limit_bytes=2 * 100 * 10 * 2))
    for text in ("aaaaaaaaaa", "bbbbbbbbbb", "aaaaaaaaaa", "cccccccccc"):  # each 2,000 bytes; room for two
        models.synthesize(text)
    assert models.speech_cache.keys() == ["aaaaaaaaaa", "cccccccccc"] and models.speech_cache.bytes == 4000
    models.synthesize("bbbbbbbbbb")
    assert voice.spoken == ["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "bbbbbbbbbb"]
