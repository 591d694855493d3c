"""voiceagent_errors_total counts each failing component (stt, llm, tts, tools) and voiceagent_llm_fallbacks_total
each fallback line: the real services against the vendor emulators with their faults switched on, in Pipecat
pipelines fed with frames (faster than real time, no phone call)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from pipecat.frames.frames import InputAudioRawFrame, LLMContextFrame, TTSSpeakFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.tests.utils import SleepFrame, run_test

from tests.call.helpers import runtime_with
from tests.conftest import make_settings
from voiceagent.brain.prompt import system_prompt
from voiceagent.call.assembly import make_brain, make_call_voice
from voiceagent.call.llm_tools import tools_schema
from voiceagent.emulators import anthropic_messages, deepgram_live, elevenlabs_stream
from voiceagent.observability.errors import ErrorObserver, error_component
from voiceagent.observability.metrics import ERROR_COMPONENTS, CallMetrics
from voiceagent.providers.factory import make_stt
from voiceagent.shared.phrases import LLM_FALLBACK
from voiceagent.shared.record import CallRecord
from voiceagent.storage import Database


def errors(metrics: CallMetrics) -> dict[str, float]:
    return {component: metrics.registry.get_sample_value("voiceagent_errors_total", {"component": component})
            for component in ERROR_COMPONENTS}


def fallbacks(metrics: CallMetrics) -> dict[str, float]:
    return {cause: metrics.registry.get_sample_value("voiceagent_llm_fallbacks_total", {"cause": cause})
            for cause in ("error", "timeout")}


def only(component: str, count: float | None = None):
    """A check that the errors went to `component` (`count` of them, or at least one) and nowhere else."""
    def check(counted: dict[str, float]) -> bool:
        others = {name: value for name, value in counted.items() if name != component and value}
        return not others and (counted[component] == count if count is not None else counted[component] >= 1)
    return check


def test_every_component_and_fallback_cause_exists_at_zero():
    text = CallMetrics().render().decode()
    for component in ERROR_COMPONENTS:
        assert f'voiceagent_errors_total{{component="{component}"}} 0.0' in text
    for cause in ("error", "timeout"):
        assert f'voiceagent_llm_fallbacks_total{{cause="{cause}"}} 0.0' in text
    assert {"stt", "llm", "tts", "tools", "storage", "call"} <= set(ERROR_COMPONENTS)


def test_a_processor_that_is_no_service_counts_against_the_call():
    assert error_component(object()) == "call"

    class StandIn:
        error_component = "llm"

    assert error_component(StandIn()) == "llm"


# -- LLM and tools: Pipecat's Anthropic service and the official SDK against the Anthropic emulator ----------------

@pytest.fixture
async def claude():
    emulator = anthropic_messages.AnthropicEmulator(first_token_ms=50)
    runner, emulator.url = await anthropic_messages.serve(emulator)
    yield emulator
    await runner.cleanup()


def llm_runtime(runtime, tmp_path, emulator, *, tables: bool = True, **settings):
    database = Database(f"sqlite:///{tmp_path / 'calls.db'}")
    if tables:  # without them, every tool that touches the database raises (counted as a tool error)
        database.create_all()
    settings = make_settings(tmp_path, anthropic_api_key="test-key", anthropic_base_url=emulator.url,
                             llm_max_retries=0, **settings)
    return runtime_with(runtime, settings, database=database)


async def ask(agent_runtime, text: str, metrics: CallMetrics, wait_secs: float = 1.5) -> list:
    """The LLM brain's processors, as a call places them, asked one question."""
    brain = make_brain(agent_runtime, CallRecord(call_sid="CA1", stream_sid="MZ1", caller="+15550100"), metrics)
    context = LLMContext(messages=[{"role": "system", "content": system_prompt("ByteAI")},
                                   {"role": "user", "content": text}], tools=tools_schema())
    down, _ = await run_test(Pipeline(brain.processors), frames_to_send=[LLMContextFrame(context=context),
                                                                       SleepFrame(sleep=wait_secs)],
                             observers=[ErrorObserver(metrics)])
    return down


def spoken(frames: list) -> str:
    return " ".join(frame.text for frame in frames if isinstance(frame, TTSSpeakFrame))


async def test_an_llm_error_counts_once_against_llm_and_as_a_fallback(runtime, tmp_path, claude):
    claude.faults.fail_next, claude.faults.status = 5, 529
    metrics = CallMetrics()
    down = await ask(llm_runtime(runtime, tmp_path, claude), "How much is the Pro plan?", metrics)
    assert LLM_FALLBACK in spoken(down)
    assert only("llm", 1)(errors(metrics)), errors(metrics)
    assert fallbacks(metrics) == {"error": 1, "timeout": 0}


async def test_an_llm_that_says_nothing_counts_as_an_llm_error_and_a_timeout_fallback(runtime, tmp_path, claude):
    claude.faults.hang_next = 1
    metrics = CallMetrics()
    down = await ask(llm_runtime(runtime, tmp_path, claude, llm_timeout_secs=0.5), "How much is the Pro plan?",
                     metrics)
    assert LLM_FALLBACK in spoken(down)
    assert only("llm", 1)(errors(metrics)), errors(metrics)
    assert fallbacks(metrics) == {"error": 0, "timeout": 1}


async def test_a_working_llm_counts_no_error(runtime, tmp_path, claude):
    metrics = CallMetrics()
    await ask(llm_runtime(runtime, tmp_path, claude), "How much is the Pro plan?", metrics)
    assert not any(errors(metrics).values()) and not any(fallbacks(metrics).values())
    assert claude.requests  # the question did reach the model


async def test_a_tool_that_raises_counts_against_tools(runtime, tmp_path, claude):
    metrics = CallMetrics()
    await ask(llm_runtime(runtime, tmp_path, claude, tables=False), "Can I talk to a person?", metrics, wait_secs=2.5)
    assert only("tools", 1)(errors(metrics)), errors(metrics)
    assert metrics.registry.get_sample_value("voiceagent_tool_calls_total",
                                             {"tool": "escalate_to_human", "result": "failed"}) == 1


# -- TTS: Pipecat's ElevenLabs service against the ElevenLabs emulator, the embedded voice taking over ------------

@pytest.fixture
async def elevenlabs(runtime):
    emulator = elevenlabs_stream.ElevenLabsEmulator(runtime.speech_models)
    server, emulator.url = await elevenlabs_stream.start(emulator)
    yield emulator
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("fault", [{"refuse_connections": True}, {"reject_status": 429}], ids=["outage", "429"])
async def test_a_failing_voice_counts_against_tts(runtime, tmp_path, elevenlabs, fault):
    for name, value in fault.items():
        setattr(elevenlabs, name, value)
    settings = make_settings(tmp_path, elevenlabs_api_key="test-key", elevenlabs_base_url=elevenlabs.url)
    metrics = CallMetrics()
    voice = make_call_voice(runtime_with(runtime, settings))
    await run_test(voice, frames_to_send=[TTSSpeakFrame("Hello, thanks for calling."), SleepFrame(sleep=1.0)],
                   observers=[ErrorObserver(metrics)])
    assert only("tts")(errors(metrics)), errors(metrics)


# -- STT: Pipecat's Deepgram service through the deepgram SDK against the live-STT emulator ----------------------

@pytest.fixture
async def deepgram(runtime):
    emulator = deepgram_live.DeepgramEmulator(runtime.speech_models)
    server, emulator.url = await deepgram_live.start(emulator)
    yield emulator
    server.close()
    await server.wait_closed()


async def test_a_refused_stt_connection_counts_against_stt(runtime, tmp_path, deepgram):
    settings = make_settings(tmp_path, deepgram_api_key="a-revoked-key", deepgram_base_url=deepgram.url)
    metrics = CallMetrics()
    stt = make_stt(settings, runtime.speech_models)
    audio = np.zeros(320, dtype=np.int16).tobytes()  # 20 ms at 8 kHz
    frames = [InputAudioRawFrame(audio=audio, sample_rate=8000, num_channels=1) for _ in range(25)]
    await run_test(stt, frames_to_send=[*frames, SleepFrame(sleep=1.0)], observers=[ErrorObserver(metrics)])
    assert only("stt")(errors(metrics)), errors(metrics)


def test_the_counters_are_exposed_with_their_component_labels():
    metrics = CallMetrics()
    metrics.errors.labels(component="tts").inc()
    text = metrics.render().decode()
    assert re.search(r'^voiceagent_errors_total\{component="tts"\} 1\.0$', text, re.MULTILINE)
