"""Latency bookkeeping, usage and cost, log redaction."""

from __future__ import annotations

import asyncio

import pytest
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    LLMTextFrame,
    MetricsFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.metrics.metrics import LLMTokenUsage, LLMUsageMetricsData, TTSUsageMetricsData
from pipecat.observers.base_observer import FramePushed
from pipecat.processors.frame_processor import FrameDirection
from prometheus_client import generate_latest

from voiceagent.observability.latency import TurnLatencyObserver
from voiceagent.observability.metrics import CallMetrics
from voiceagent.observability.usage import UsageObserver
from voiceagent.shared.frames import PlaybackMarkEchoFrame, RetrievalDoneFrame
from voiceagent.shared.record import CallRecord
from voiceagent.shared.redact import redact_phone, redact_text
from voiceagent.shared.usage import ProviderUsage
from voiceagent.simulate.bench import ServerProcess, speculative_answers, stage_means


def pushed(frame, direction=FrameDirection.DOWNSTREAM):
    return FramePushed(source=None, destination=None, frame=frame, direction=direction, timestamp=0)


async def test_a_turn_has_every_stage_in_order():
    record, metrics = CallRecord(), CallMetrics()
    observer = TurnLatencyObserver(record, metrics, vad_stop_secs=0.5)
    frames = [
        VADUserStoppedSpeakingFrame(),
        TranscriptionFrame("hello", "", "now"),
        UserStoppedSpeakingFrame(),
        RetrievalDoneFrame(hits=2),
        LLMTextFrame("Hi"),
        TTSStartedFrame(),
        TTSAudioRawFrame(b"\0\0", 8000, 1),
        BotStartedSpeakingFrame(),
        PlaybackMarkEchoFrame(mark="utt-1"),
        PlaybackMarkEchoFrame(mark="utt-2"),
    ]
    for frame in frames:
        await observer.on_push_frame(pushed(frame))
        await observer.on_push_frame(pushed(frame))  # seen again at the next processor
        await asyncio.sleep(0.01)
    assert len(record.turns) == 1
    turn = record.turns[0]
    stamps = [turn.caller_speech_end, turn.stt_final, turn.end_of_turn, turn.retrieval_done, turn.brain_first_text,
              turn.tts_text_sent, turn.tts_first_audio, turn.first_audio_sent, turn.heard_end]
    assert all(s is not None for s in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # heard_end moved on to the last echo
    assert 0.5 <= turn.response_latency < 1.0  # speech ended vad_stop_secs before VAD said so
    body = metrics.render().decode()
    assert "voiceagent_response_latency_seconds_count 1.0" in body
    assert 'voiceagent_stage_latency_seconds_count{stage="tts_first_audio"} 1.0' in body


async def test_retrieval_for_a_speculative_answer_before_the_vad_stop_counts_for_the_turn():
    record = CallRecord()
    observer = TurnLatencyObserver(record, None, vad_stop_secs=0.25)
    await observer.on_push_frame(pushed(VADUserStartedSpeakingFrame()))
    await observer.on_push_frame(pushed(RetrievalDoneFrame(hits=1)))  # a guess withdrawn: the caller went on
    await observer.on_push_frame(pushed(VADUserStartedSpeakingFrame()))
    await observer.on_push_frame(pushed(VADUserStoppedSpeakingFrame()))
    assert observer._turn.retrieval_done is None  # the withdrawn guess's retrieval is not this turn's
    observer = TurnLatencyObserver(record, None, vad_stop_secs=0.25)
    await observer.on_push_frame(pushed(RetrievalDoneFrame(hits=1)))  # the kept guess, before the VAD stop
    await asyncio.sleep(0.01)
    await observer.on_push_frame(pushed(VADUserStoppedSpeakingFrame()))
    turn = observer._turn
    assert turn.retrieval_done is not None and turn.caller_speech_end <= turn.retrieval_done


async def test_an_upstream_vad_copy_does_not_restart_the_turn():
    record = CallRecord()
    observer = TurnLatencyObserver(record, None, vad_stop_secs=0.5)
    await observer.on_push_frame(pushed(VADUserStoppedSpeakingFrame()))
    first = observer._turn
    await observer.on_push_frame(pushed(VADUserStoppedSpeakingFrame(), FrameDirection.UPSTREAM))
    assert observer._turn is first


async def test_usage_and_cost():
    usage, metrics = ProviderUsage(), CallMetrics()
    observer = UsageObserver(usage, metrics)
    frame = MetricsFrame(data=[
        LLMUsageMetricsData(processor="llm", value=LLMTokenUsage(prompt_tokens=1000, completion_tokens=100,
                                                                  total_tokens=1100, cache_read_input_tokens=800)),
        TTSUsageMetricsData(processor="tts", value=120),
    ])
    await observer.on_push_frame(pushed(frame))
    await observer.on_push_frame(pushed(frame))
    assert (usage.llm_input_tokens, usage.llm_output_tokens, usage.llm_cached_tokens, usage.tts_characters) == (1000, 100, 800, 120)
    cloud = {"stt": "deepgram", "llm": "anthropic", "tts": "elevenlabs"}
    embedded = {"stt": "embedded", "llm": "embedded", "tts": "embedded"}
    expected = 60 / 60 * 27 / 9000 + 200 * 3e-6 + 800 * 0.3e-6 + 100 * 15e-6 + 120 * 0.18 / 1000
    assert abs(usage.estimated_cost(cloud, 60) - expected) < 1e-6
    assert usage.estimated_cost(embedded, 60) < usage.estimated_cost(cloud, 60)
    assert 'voiceagent_provider_usage_total{kind="tts_characters"} 120.0' in metrics.render().decode()


def test_redaction():
    assert redact_phone("+15551234567") == "***67"
    assert "1234567" not in redact_text("call me at +1 (555) 123-4567 please")
    assert "Maria" not in redact_text("Hi, my name is Maria Lopez")
    assert redact_text("Hello, I'm your ByteAI assistant.") == "Hello, I'm your ByteAI assistant."
    assert redact_text("It's John.") == "It's [name]."


def test_a_name_given_to_a_tool_is_masked_wherever_the_call_record_has_it():
    record = CallRecord(caller="+15551234567")
    record.agent_sent("Can I have your name, please?")
    record.caller_said("John Smith.")
    record.agent_sent("Just to confirm: an appointment for John Smith, Tuesday at 10:30 AM.")
    record.caller_said("Yes, john, that's right.")
    record.personal_names.add("John Smith")
    texts = [e["text"] for e in record.redacted_transcript()]
    assert texts == ["Can I have your name, please?", "[name].",
                     "Just to confirm: an appointment for [name], Tuesday at 10:30 AM.", "Yes, [name], that's right."]
    assert record.transcript[1]["text"] == "John Smith."  # the live record (what the brain sees) is untouched


def test_the_bench_reads_stage_means_and_guesses_from_the_metrics_text_less_the_warm_up():
    metrics = CallMetrics()
    metrics.stage_latency.labels(stage="stt_final").observe(3.0)  # the warm-up call
    metrics.speculative_answers.labels(result="discarded").inc()
    warmed = generate_latest(metrics.registry).decode()
    for seconds in (0.2, 0.4):
        metrics.stage_latency.labels(stage="stt_final").observe(seconds)
    metrics.stage_latency.labels(stage="llm_first_token").observe(0.9)
    metrics.speculative_answers.labels(result="kept").inc(2)
    text = generate_latest(metrics.registry).decode()
    assert stage_means(text, warmed) == {"stt_final": 0.3, "llm_first_token": 0.9}
    assert stage_means(text) == {"stt_final": 1.2, "llm_first_token": 0.9}
    assert speculative_answers(text, warmed) == {"kept": 2, "discarded": 0}


@pytest.mark.slow
async def test_a_bench_server_that_cannot_start_says_why_and_does_not_outlive_the_bench():
    server = ServerProcess({"EMBEDDINGS_PROVIDER": "nonsense"})
    with pytest.raises(RuntimeError, match="EMBEDDINGS_PROVIDER='nonsense': Input should be 'auto', 'embedded'"):
        async with server:
            pass
    assert server.process.poll() is not None  # stopped, not left running
    assert server.env["DATA_DIR"] != "data"  # a bench server never writes into the user's data directory
