"""Turn-taking when Whisper is slow (a busy machine) or hears no words: the turn waits for the STT's final word."""

from __future__ import annotations

import time

import pytest

from tests.call.helpers import answers_in_record, squash
from tests.conftest import make_settings
from voiceagent.providers.whisper import EmbeddedWhisperSTTService
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import local_server, simulate_call

pytestmark = pytest.mark.realtime  # every test here places a real-time call


@pytest.fixture
async def server(tmp_path, runtime):
    async with local_server(runtime, make_settings(tmp_path)) as url:
        yield url


async def test_late_transcripts_on_a_busy_machine_still_make_one_turn(server, runtime, caller_voice, monkeypatch):
    # Each Whisper decode takes 2.5 s longer, as on a machine loaded by other calls: the sentence's segments come
    # back seconds after the caller stopped. Pipecat's watchdog used to end the turn on half the sentence and the
    # late words then started new turns that interrupted the answer.
    transcribe = EmbeddedWhisperSTTService._transcribe_pcm

    def slow_transcribe(self, audio):
        time.sleep(2.5)
        return transcribe(self, audio)

    monkeypatch.setattr(EmbeddedWhisperSTTService, "_transcribe_pcm", slow_transcribe)
    line = "I was wondering [pause 400] if you could tell me [pause 400] about your pricing."
    report = await simulate_call(server, [CallerTurn(audio=caller_voice.say(line), text=line)], runtime.speech_models)
    replies = [text for text in report.replies if text.strip()]
    assert len(replies) == 1, report.agent_texts
    answers = await answers_in_record(runtime, report)
    assert len(answers) == 1 and ("99" in answers[0] or "proplan" in answers[0]), answers
    assert report.result.clears <= 1


async def test_speech_with_no_words_is_answered_without_waiting_for_the_watchdog(server, runtime, caller_voice,
                                                                                  monkeypatch):
    # Whisper hears no words in what the VAD took for speech (a sigh, line noise). The empty final transcript
    # ends the turn; Pipecat's strategy waits for text, so the turn used to end only at the watchdog (12.5 s).
    monkeypatch.setattr(EmbeddedWhisperSTTService, "_transcribe_pcm", lambda self, audio: "")
    report = await simulate_call(server, [CallerTurn(audio=caller_voice.say("Hello there, can you hear me?"),
                                                     text="<no words>")], runtime.speech_models)
    assert "didntcatchthat" in squash(" ".join(report.replies)), report.agent_texts
    assert report.latencies and report.latencies[0] < 8.0, report.latencies  # well before the watchdog
