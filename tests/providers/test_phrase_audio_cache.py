"""Fixed phrases (the greeting, cues) are synthesized by ElevenLabs once per process and replayed in later calls:
the same audio and words reach the caller, and nothing of them goes over the wire again."""

from __future__ import annotations

from pipecat.frames.frames import TTSAudioRawFrame, TTSSpeakFrame, TTSStartedFrame, TTSStoppedFrame, TTSTextFrame
from pipecat.pipeline.worker import PipelineParams
from pipecat.tests.utils import SleepFrame, run_test

from tests.conftest import make_settings
from voiceagent.emulators.elevenlabs_stream import ElevenLabsEmulator, start
from voiceagent.providers.audio_cache import AudioCache
from voiceagent.providers.elevenlabs import make_elevenlabs_tts

GREETING = "Hello! Thanks for calling ByteAI Customer Support. How can I help you today?"


async def speak(tts, *texts: str):
    """One call's voice speaking `texts` as fixed phrases; returns the frames it sent downstream."""
    frames = []
    for text in texts:
        frames += [TTSSpeakFrame(text), SleepFrame(1.5)]
    down, _ = await run_test(tts, frames_to_send=frames,
                             pipeline_params=PipelineParams(audio_out_sample_rate=8000))
    return down


def spoken(frames) -> tuple[bytes, str]:
    audio = b"".join(f.audio for f in frames if isinstance(f, TTSAudioRawFrame))
    words = " ".join(f.text for f in frames if isinstance(f, TTSTextFrame))
    return audio, words


def texts_sent(emulator) -> list[str]:
    return [m["text"].strip() for m in emulator.messages if m.get("text", "").strip()]


async def test_a_fixed_phrase_is_synthesized_once_and_replayed_in_later_calls(runtime, tmp_path):
    emulator = ElevenLabsEmulator(runtime.speech_models, first_audio_ms=50)
    server, url = await start(emulator)
    try:
        settings = make_settings(tmp_path, elevenlabs_api_key="test-key", elevenlabs_base_url=url)
        cache = AudioCache()
        first = await speak(make_elevenlabs_tts(settings, [], cache), GREETING)
        assert texts_sent(emulator) == [GREETING]
        audio, words = spoken(first)
        assert len(audio) > 8000 * 2 and "ByteAI" in words  # over a second of speech, with its words
        assert len(cache) == 1

        emulator.messages.clear()
        again = await speak(make_elevenlabs_tts(settings, [], cache), GREETING)  # the next call
        assert texts_sent(emulator) == []  # nothing went to ElevenLabs
        assert spoken(again) == (audio, words)
        kinds = [type(f) for f in again if isinstance(f, (TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame))]
        assert kinds[0] is TTSStartedFrame and kinds[-1] is TTSStoppedFrame and kinds.count(TTSStoppedFrame) == 1
        assert not any(m.get("close_context") or m.get("flush") for m in emulator.messages)

        # Another voice is another phrase; a phrase not yet heard goes to ElevenLabs as before.
        other = make_settings(tmp_path, elevenlabs_api_key="test-key", elevenlabs_base_url=url,
                              elevenlabs_voice_id="another-voice")
        await speak(make_elevenlabs_tts(other, [], cache), GREETING, "One moment, please.")
        assert texts_sent(emulator) == [GREETING, "One moment, please."] and len(cache) == 3
    finally:
        server.close()
        await server.wait_closed()


async def test_only_whole_phrases_are_kept(runtime, tmp_path):
    """A phrase cut short (the socket dropped mid-phrase) is not replayed to later callers."""
    emulator = ElevenLabsEmulator(runtime.speech_models, first_audio_ms=50, disconnect_after_audio=2)
    server, url = await start(emulator)
    try:
        settings = make_settings(tmp_path, elevenlabs_api_key="test-key", elevenlabs_base_url=url)
        cache = AudioCache()
        await speak(make_elevenlabs_tts(settings, [], cache), GREETING)
        assert len(cache) == 0
    finally:
        server.close()
        await server.wait_closed()
