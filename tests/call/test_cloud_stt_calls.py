"""Calls heard by Pipecat's Deepgram service through the deepgram SDK, against the local live-STT emulator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.call.helpers import answers_in_record, place_call, runtime_with, spoken_by_agent, squash
from tests.conftest import make_settings
from voiceagent.emulators.anthropic_messages import AnthropicEmulator, serve
from voiceagent.emulators.deepgram_live import DeepgramEmulator, start
from voiceagent.storage import Database, SupportTicket

pytestmark = pytest.mark.realtime  # every test here places a real-time call


@pytest.fixture
async def emulator(runtime):
    emulator = DeepgramEmulator(runtime.speech_models)
    server, url = await start(emulator)
    emulator.url = url
    yield emulator
    server.close()
    await server.wait_closed()


@pytest.fixture
def stt_runtime(runtime, tmp_path, emulator):
    settings = make_settings(tmp_path, deepgram_api_key="test-key", deepgram_base_url=emulator.url)
    return runtime_with(runtime, settings)


async def call(stt_runtime, caller_voice, lines):
    return await place_call(stt_runtime, caller_voice, lines)


async def test_the_caller_is_heard_through_deepgram(stt_runtime, caller_voice, emulator):
    report = await call(stt_runtime, caller_voice, ["How much does the Business plan cost?"])
    assert "299" in "".join(await answers_in_record(stt_runtime, report))
    assert emulator.connections >= 1
    assert emulator.extensions and not any(emulator.extensions), emulator.extensions  # audio is sent uncompressed


async def test_a_dropped_deepgram_socket_reconnects_and_the_call_goes_on(stt_runtime, caller_voice, emulator):
    emulator.drop_after_audio_secs = 3.0  # drops during the greeting, before the caller speaks
    report = await call(stt_runtime, caller_voice, ["How much does the Pro plan cost?"])
    assert emulator.connections >= 2
    assert "99" in "".join(await answers_in_record(stt_runtime, report))


async def test_words_spoken_while_the_socket_drops_are_kept(stt_runtime, caller_voice, emulator):
    emulator.drop_after_speech_secs = 1.0  # the socket dies a second into the caller's sentence
    report = await call(stt_runtime, caller_voice, ["How much does the Pro plan cost per month, please?"])
    assert emulator.connections >= 2
    heard = squash(" ".join(emulator.finals))
    assert "howmuch" in heard and "proplan" in heard, emulator.finals  # the words before the drop, replayed
    assert "99" in "".join(await answers_in_record(stt_runtime, report))


async def test_a_malformed_deepgram_message_does_not_break_the_call(stt_runtime, caller_voice, emulator):
    emulator.malformed_next = 1
    report = await call(stt_runtime, caller_voice, ["How much does the Pro plan cost?", "How much is the Business plan?"])
    assert "299" in "".join(await answers_in_record(stt_runtime, report))  # at the latest, the second question is heard and answered


@pytest.fixture
async def llm_emulator():
    emulator = AnthropicEmulator(first_token_ms=300)
    runner, emulator.url = await serve(emulator)
    yield emulator
    await runner.cleanup()


async def test_speech_deepgram_cannot_recognise_is_asked_again_then_escalated(runtime, tmp_path, caller_voice,
                                                                             emulator, llm_emulator):
    settings = make_settings(tmp_path, deepgram_api_key="test-key", deepgram_base_url=emulator.url,
                             anthropic_api_key="test-key", anthropic_base_url=llm_emulator.url)
    database = Database(f"sqlite:///{tmp_path / 'stt.db'}")
    database.create_all()
    emulator.unrecognized_next = 3
    lines = ["How much is the Pro plan?", "What are your business hours?", "Can I book an appointment?"]
    stt_runtime = runtime_with(runtime, settings, database=database)
    report = await call(stt_runtime, caller_voice, lines)
    # From the server's record (no caller line is in it: nothing was transcribed); a stall once split a reply.
    assert report.replies, report.agent_texts
    spoken = squash(" ".join(await spoken_by_agent(stt_runtime, report.result.call_sid)))
    assert spoken.count("didntcatchthat") == 2, report.agent_texts
    assert "ticket" in spoken and "callyouback" in spoken, report.agent_texts  # the third time, a human takes over
    assert llm_emulator.requests == []  # the model never saw the turns nobody could transcribe
    with database.session() as session:
        assert session.scalars(select(SupportTicket)).one().reason.startswith("the caller could not be understood")


async def test_the_turn_ends_on_deepgrams_endpointed_final_without_waiting_out_the_stt_budget(
        runtime, tmp_path, caller_voice, emulator):
    # With the VAD stop (0.5 s) longer than Deepgram's endpointing (0.3 s), the endpointed final (`speech_final`)
    # always comes before the Finalize the VAD stop sends, whose answer is then empty. Pipecat counts only the
    # Finalize answer as final, so the turn would wait out the STT's p99 budget, made 12 s here to tell the two
    # apart on a machine however loaded (a clean-clone run took 3.8 s): the endpointed final must end the turn.
    settings = make_settings(tmp_path, deepgram_api_key="test-key", deepgram_base_url=emulator.url, vad_stop_secs=0.5,
                             streaming_stt_final_secs=12.0)
    quick = runtime_with(runtime, settings)
    report = await call(quick, caller_voice, ["How much does the Pro plan cost?"])
    assert "99" in "".join(await answers_in_record(quick, report))
    assert report.latencies and report.latencies[0] < 8.0, report.latencies  # the budget alone is 12.5 s
