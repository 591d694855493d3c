"""After one simulated call, /metrics exposes every series the dashboard uses; the bench runs end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.conftest import make_settings
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import local_server, simulate_call

SERIES = [
    "voiceagent_active_calls",
    'voiceagent_calls_total{outcome="completed"}',
    "voiceagent_response_latency_seconds_count",
    'voiceagent_stage_latency_seconds_count{stage="stt_final"}',
    'voiceagent_stage_latency_seconds_count{stage="tts_first_audio"}',
    'voiceagent_stage_latency_seconds_count{stage="first_audio_sent"}',
    'voiceagent_provider_usage_total{kind="tts_characters"}',
    "voiceagent_call_cost_usd_count",
    "voiceagent_errors_total",
    'voiceagent_speculative_answers_total{result="kept"}',
]


@pytest.mark.realtime
async def test_metrics_after_one_call(runtime, caller_voice, tmp_path):
    settings = make_settings(tmp_path)
    async with local_server(runtime, settings) as url:
        turns = [CallerTurn(audio=caller_voice.say("Thanks, goodbye."), text="goodbye")]
        await simulate_call(url, turns, runtime.speech_models)
        async with httpx.AsyncClient() as client:
            body = (await client.get(url.replace("ws://", "http://").replace("/ws/media", "/metrics"))).text
    for series in SERIES:
        assert series in body, series
    assert 'voiceagent_calls_total{outcome="completed"} 1.0' in body
    assert "voiceagent_response_latency_seconds_count 1.0" in body


@pytest.mark.bench
@pytest.mark.parametrize("stack", ["embedded", "cloud"])
def test_the_bench_runs_end_to_end(tmp_path, stack):
    done = subprocess.run(
        [sys.executable, "-m", "voiceagent.cli", "bench", "--calls", "1", "--concurrency", "1", "--stack", stack,
         "--say", "How much is the Pro plan?", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads((tmp_path / "bench.json").read_text())
    assert figures[0]["stack"] == stack
    assert figures[0]["turns"] == 1 and figures[0]["latency"]["median"] > 0 and figures[0]["greeting"]["median"] > 0
    assert figures[0]["server_rss_start_mb"] > 0 and figures[0]["agent_frames"] > 0
    assert figures[0]["caller_cpu_seconds_per_call"] > 0
    assert (figures[0]["emulator_cpu_seconds_per_call"] > 0) == (stack == "cloud")  # emulators only for the cloud
    assert "first_audio_sent" in figures[0]["stage_means"]
    if stack == "cloud":  # the LLM path adds the retrieval stage and speculative answers
        assert "retrieval_done" in figures[0]["stage_means"]
        assert set(figures[0]["speculative_answers"]) == {"kept", "discarded"}
    assert (tmp_path / "bench.png").stat().st_size > 10_000
