"""RECORD_CALLS on real calls: the greeting says so, both sides land in one encrypted stereo file, a barge-in's
clear cuts the agent's side where the caller stopped hearing it, and an operator lists and decrypts it."""

from __future__ import annotations

import base64
import io
import os
import wave

import numpy as np
import pytest
import soxr
from typer.testing import CliRunner

from tests.call.helpers import place_call, runtime_with, squash
from tests.conftest import make_settings
from voiceagent.cli import app
from voiceagent.emulators.openai_chat import OpenAIChatEmulator
from voiceagent.emulators.run import serve_app
from voiceagent.shared.audio_level import frame_rms
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import local_server, simulate_call
from voiceagent.storage.recordings import RecordingStore

pytestmark = pytest.mark.realtime  # every test here places a real-time call

RATE = 8000
WINDOW = 400  # 50 ms
LOUD = 300.0  # RMS of speech on either track; silence on these tracks is digital zero or line noise well below


@pytest.fixture
def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def recorded_runtime(runtime, tmp_path, key):
    return runtime_with(runtime, make_settings(tmp_path, record_calls=True, recording_key=key))


def the_recording(tmp_path, call_sid: str, settings) -> tuple[np.ndarray, np.ndarray]:
    """(caller, agent) tracks of the call's decrypted recording; checks the folder holds only that file."""
    folder = tmp_path / "recordings"
    assert sorted(path.name for path in folder.iterdir()) == [f"{call_sid}.wav.enc"]
    sealed = (folder / f"{call_sid}.wav.enc").read_bytes()
    assert not sealed.startswith(b"RIFF") and b"WAVEfmt" not in sealed  # never plaintext on disk
    with wave.open(io.BytesIO(RecordingStore.from_settings(settings).read(call_sid))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        stereo = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).reshape(-1, 2)
    return stereo[:, 0], stereo[:, 1]


def loud_windows(track: np.ndarray) -> np.ndarray:
    """Start times (s) of the 50 ms windows with speech in them."""
    starts = range(0, len(track) - WINDOW, WINDOW)
    return np.array([start / RATE for start in starts if frame_rms(track[start:start + WINDOW].tobytes()) > LOUD])


def speech_runs(track: np.ndarray, gap: float = 0.8) -> list[tuple[float, float]]:
    """(start, end) seconds of stretches of speech, pauses under `gap` included."""
    times, runs = loud_windows(track), []
    for at in times:
        if runs and at - runs[-1][1] <= gap:
            runs[-1][1] = at + WINDOW / RATE
        else:
            runs.append([at, at + WINDOW / RATE])
    return [(round(start, 2), round(end, 2)) for start, end in runs]


def transcribe(speech_models, track: np.ndarray, start: float, end: float) -> str:
    piece = track[int(start * RATE):int(end * RATE)].astype(np.float32) / 32768.0
    return speech_models.transcribe(soxr.resample(piece, RATE, 16000))


async def test_a_recorded_call_has_both_sides_in_time_and_the_greeting_says_so(recorded_runtime, tmp_path,
                                                                              caller_voice, key):
    report = await place_call(recorded_runtime, caller_voice, ["What are your support hours?"])
    assert "recorded" in squash(report.greeting), report.agent_texts  # as the caller heard it
    caller, agent = the_recording(tmp_path, report.result.call_sid, recorded_runtime.settings)

    spoken = speech_runs(caller)[0]
    # The greeting is on the agent's side before the caller speaks, as long as the caller heard it. A stall on a
    # loaded machine can split it into pieces a second apart ("Hello!", then the rest): their lengths add up.
    pieces = [run for run in speech_runs(agent) if run[0] < spoken[0]]
    greeting = (pieces[0][0], pieces[-1][1])
    heard_secs = sum(len(pcm) for pcm in report.result.agent[0].pcm) / RATE
    assert greeting[1] < spoken[0], (greeting, spoken)
    assert abs(sum(end - start for start, end in pieces) - heard_secs) < 0.5 * len(pieces), (pieces, heard_secs)
    # The same gap between the greeting's start and the caller's words as the caller's own side measured.
    caller_started = next(at for at, pcm in report.result.caller_track if frame_rms(pcm.tobytes()) > LOUD)
    assert abs((spoken[0] - greeting[0]) - (caller_started - report.result.agent[0].started)) < 0.3
    assert not loud_windows(caller[:int(greeting[1] * RATE)]).size  # no agent audio on the caller's side
    assert "recorded" in squash(transcribe(recorded_runtime.speech_models, agent, *greeting))
    heard = squash(transcribe(recorded_runtime.speech_models, caller, spoken[0] - 0.2, spoken[1] + 0.3))
    assert "whatareyoursupport" in heard, heard  # ("hours" is sometimes "ours" to Whisper tiny on a phone line)
    answer = [run for run in speech_runs(agent) if run[0] > spoken[0]]
    assert answer and answer[0][0] > spoken[1], (answer, spoken)  # the answer after the question

    # The operator's commands on this file.
    env = {"DATA_DIR": str(tmp_path), "RECORDING_KEY": key, "RECORD_CALLS": "false", "RECORDING_OLD_KEYS": ""}
    listed = CliRunner().invoke(app, ["recordings", "list"], env=env)
    assert listed.exit_code == 0 and report.result.call_sid in listed.output and "k1" in listed.output, listed.output
    out = tmp_path / "out.wav"
    played = CliRunner().invoke(app, ["recordings", "play", report.result.call_sid, "--out", str(out)], env=env)
    assert played.exit_code == 0, played.output
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 2 and wav.getnframes() == len(agent)
    other_key = base64.b64encode(os.urandom(32)).decode()
    refused = CliRunner().invoke(app, ["recordings", "play", report.result.call_sid, "--out", str(out)],
                                 env={**env, "RECORDING_KEY": other_key})
    assert refused.exit_code == 2 and "does not open this recording" in " ".join(refused.output.split())
    assert isinstance(refused.exception, SystemExit)  # a message, not a traceback


async def test_a_barge_in_leaves_only_what_the_caller_heard_of_the_greeting(recorded_runtime, tmp_path, caller_voice):
    question = "Hi, could you tell me what your support hours are on weekdays, please?"
    async with local_server(recorded_runtime, recorded_runtime.settings) as url:
        turns = [CallerTurn(audio=caller_voice.say(question), text=question, barge_in_after=2.0)]
        report = await simulate_call(url, turns, recorded_runtime.speech_models)
    assert report.result.clears >= 1 and report.result.agent[0].cleared
    caller, agent = the_recording(tmp_path, report.result.call_sid, recorded_runtime.settings)
    greeting, spoken = speech_runs(agent, gap=0.3)[0], speech_runs(caller)[0]
    assert greeting[0] < spoken[0]
    # The caller heard none of the ~8 s greeting after the clear, and neither does the recording: the agent's side is
    # silent from shortly after the caller started talking over it (the VAD's start, then the clear) to the answer.
    cut = int((spoken[0] + 1.0) * RATE)
    assert spoken[1] - spoken[0] > 2.5 and not loud_windows(agent[cut:int(spoken[1] * RATE)]).size, \
        (speech_runs(agent, gap=0.3), spoken)


async def test_an_llm_brain_says_the_notice_too(runtime, tmp_path, caller_voice, key):
    """LLM brains get the greeting spoken by call/session.py, not by the offline engine: it carries the notice too."""
    emulator = OpenAIChatEmulator(first_token_ms=300)
    runner, url = await serve_app(emulator.app())
    try:
        settings = make_settings(tmp_path, record_calls=True, recording_key=key, openai_llm_model="llama-3.1-8b",
                                 openai_llm_base_url=url + "/v1", openai_llm_api_key="test-key")
        assert settings.resolved_provider("llm") == "openai"
        report = await place_call(runtime_with(runtime, settings), caller_voice, ["How much is the Pro plan?"])
    finally:
        await runner.cleanup()
    assert "recorded" in squash(report.greeting), report.agent_texts
    caller, agent = the_recording(tmp_path, report.result.call_sid, settings)
    spoken = speech_runs(caller)[0]
    pieces = [run for run in speech_runs(agent) if run[0] < spoken[0]]  # the greeting, then the caller
    assert pieces and pieces[-1][1] < spoken[0], (pieces, spoken)
    assert "recorded" in squash(transcribe(runtime.speech_models, agent, pieces[0][0], pieces[-1][1]))
