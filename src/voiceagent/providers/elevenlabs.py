"""ElevenLabs multi-stream-input TTS through Pipecat's service, with fixed phrases synthesized once per process."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from pipecat.frames.frames import Frame, TTSAudioRawFrame, TTSStartedFrame, TTSStoppedFrame
from pipecat.services.elevenlabs.tts import ElevenLabsTTSService
from pipecat.services.tts_service import TTSService

from voiceagent.config import Settings
from voiceagent.providers.audio_cache import AudioCache

PHRASE_CHUNK_SECS = 0.1  # cached phrase audio is replayed in chunks of this length, as ElevenLabs sends it


@dataclass
class _PhraseRecording:
    """A fixed phrase being spoken for the first time: its audio and word times, kept once it plays out."""

    key: tuple
    audio: list[bytes] = field(default_factory=list)
    words: list[tuple[str, float]] = field(default_factory=list)


class PhraseCachingElevenLabsTTSService(ElevenLabsTTSService):
    """ElevenLabs multi-stream-input over WebSocket, turbo v2.5, voice "Rachel", 8 kHz for the phone line.

    Fixed phrases (the greeting, "didn't catch that", the trouble and hand-off lines: whatever is spoken with a
    TTSSpeakFrame) are synthesized once per process: the audio and word times ElevenLabs sends for the first
    call are kept in `phrase_cache`, keyed by voice, model, rate and text, and replayed for every later call
    with no round trip (and no characters billed). Replies written by the LLM always go to ElevenLabs."""

    def __init__(self, *, phrase_cache: AudioCache | None = None, **kwargs):
        super().__init__(**kwargs)
        self._phrase_cache = phrase_cache
        self._speaking_fixed_phrase = False
        self._recordings: dict[str, _PhraseRecording] = {}
        self._replayed: set[str] = set()  # contexts ElevenLabs never saw: nothing to close there

    async def _reconnect_websocket(self, attempt_number: int) -> bool:
        # Pipecat reconnects silently, but a socket lost mid-reply has cost the caller the rest of the
        # reply: report it, so the call's voice can fail over instead of losing the next reply too.
        if attempt_number == 1 and self.get_active_audio_context_id() is not None:
            await self.push_error("ElevenLabs dropped the connection mid-reply")
        return await super()._reconnect_websocket(attempt_number)

    def _phrase_key(self, text: str) -> tuple:
        return ("elevenlabs", self.settings.voice, self.settings.model, self.sample_rate, text.strip())

    async def _handle_tts_speak(self, frame):
        self._speaking_fixed_phrase = self._phrase_cache is not None
        try:
            await super()._handle_tts_speak(frame)
        finally:
            self._speaking_fixed_phrase = False

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        fixed, key = self._speaking_fixed_phrase, self._phrase_key(text)
        cached = self._phrase_cache.get(key) if fixed and not self.audio_context_available(context_id) else None
        if cached is None:
            self._recordings.pop(context_id, None)  # a context of more than one phrase is not kept
            if fixed and not self.audio_context_available(context_id):
                self._recordings[context_id] = _PhraseRecording(key)
            async for frame in super().run_tts(text, context_id):
                yield frame
            return
        audio, words = cached
        self._replayed.add(context_id)
        await self.create_audio_context(context_id)
        yield TTSStartedFrame(context_id=context_id)
        if words:
            await self.add_word_timestamps(words, context_id)
        step = int(self.sample_rate * PHRASE_CHUNK_SECS) * 2
        for start in range(0, len(audio), step):
            yield TTSAudioRawFrame(audio[start:start + step], self.sample_rate, 1, context_id=context_id)
        if not self._push_stop_frames:  # (ElevenLabs' isFinal would have ended it)
            yield TTSStoppedFrame(context_id=context_id)
        # Yielding the audio (no None) makes Pipecat close the context once the phrase is queued.

    async def append_to_audio_context(self, context_id: str, frame):
        recording = self._recordings.get(context_id)
        if recording is not None:
            if isinstance(frame, TTSAudioRawFrame):
                recording.audio.append(frame.audio)
            elif isinstance(frame, TTSStoppedFrame):  # ElevenLabs' isFinal: the whole phrase is here
                del self._recordings[context_id]
                audio = b"".join(recording.audio)
                if audio:
                    self._phrase_cache.put(recording.key, (audio, recording.words), len(audio))
        await super().append_to_audio_context(context_id, frame)

    async def add_word_timestamps(self, word_times, context_id=None, *args, **kwargs):
        recording = self._recordings.get(context_id)
        if recording is not None:
            recording.words.extend(word_times)
        await super().add_word_timestamps(word_times, context_id, *args, **kwargs)

    async def on_audio_context_interrupted(self, context_id: str):
        self._recordings.pop(context_id, None)  # cut off: not the whole phrase
        await super().on_audio_context_interrupted(context_id)

    async def flush_audio(self, context_id: str | None = None):
        if context_id not in self._replayed:
            await super().flush_audio(context_id)

    async def _close_context(self, context_id: str):
        if context_id not in self._replayed:
            await super()._close_context(context_id)


def make_elevenlabs_tts(settings: Settings, text_transforms, phrase_cache: AudioCache | None = None,
                        sample_rate: int | None = 8000) -> TTSService:
    """The call's ElevenLabs voice; `sample_rate` None leaves Pipecat's default (the bench's stock profile)."""
    return PhraseCachingElevenLabsTTSService(
        phrase_cache=phrase_cache,
        api_key=settings.elevenlabs_api_key.get_secret_value(),
        url=settings.elevenlabs_base_url or "wss://api.elevenlabs.io",
        sample_rate=sample_rate,
        settings=ElevenLabsTTSService.Settings(voice=settings.elevenlabs_voice_id, model=settings.elevenlabs_model),
        text_transforms=text_transforms,
    )
