"""Speculative generation through Pipecat's user aggregator: a guess is answered early, kept only if it holds."""

from __future__ import annotations

import time

import numpy as np
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.frames.frames import (
    EagerEndOfTurnCancelFrame,
    InputAudioRawFrame,
    InterimTranscriptionFrame,
    LLMContextFrame,
    STTMetadataFrame,
    TranscriptionFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair, LLMUserAggregatorParams
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from tests.call.helpers import FixedTurnVerdict
from tests.conftest import make_settings
from voiceagent.call.turn_taking import turn_taking_params
from voiceagent.call.turn_taking.sentences import ends_a_sentence
from voiceagent.call.turn_taking.speculation import SpeculativeTurnStopStrategy
from voiceagent.call.turn_taking.streaming_stop import StreamingTranscriptTurnStop

STOP_SECS = 0.2


def caller_falls_silent(later_secs: float = 0.0) -> VADUserStoppedSpeakingFrame:
    """VAD's stop; `later_secs` moves the moment the caller went quiet that far past the frames before it."""
    frame = VADUserStoppedSpeakingFrame(stop_secs=STOP_SECS)
    frame.timestamp = time.time() + later_secs
    return frame


async def run_turn(frames):
    strategy = SpeculativeTurnStopStrategy(turn_analyzer=FixedTurnVerdict(EndOfTurnState.COMPLETE))
    context = LLMContext(messages=[{"role": "system", "content": "Be brief."}])
    user = LLMContextAggregatorPair(context, user_params=LLMUserAggregatorParams(
        user_turn_strategies=UserTurnStrategies(stop=[strategy]), user_turn_stop_timeout=10.0)).user()
    down, _ = await run_test(user, frames_to_send=[VADUserStartedSpeakingFrame(start_secs=0.2), *frames])
    contexts = [f for f in down if isinstance(f, LLMContextFrame)]
    return strategy, context, contexts, down


async def test_a_guess_that_holds_is_answered_once_and_the_context_keeps_the_final_words():
    strategy, context, contexts, down = await run_turn([
        InterimTranscriptionFrame("how much is the pro plan", "caller", "t"),
        caller_falls_silent(), SleepFrame(0.1),
        TranscriptionFrame("How much is the Pro plan?", "caller", "t"), SleepFrame(0.3),
    ])
    assert [(c.speculation, c.context.get_messages()[-1]["content"]) for c in contexts] == [
        (True, "how much is the pro plan")]  # the early guess, and no second inference
    assert (strategy.started, strategy.kept, strategy.discarded) == (1, 1, 0)
    assert context.get_messages()[-1] == {"role": "user", "content": "How much is the Pro plan?"}
    assert any(isinstance(f, UserStoppedSpeakingFrame) for f in down)  # what releases the held answer
    assert not any(isinstance(f, EagerEndOfTurnCancelFrame) for f in down)


async def test_a_guess_the_final_words_contradict_is_withdrawn_and_answered_again():
    strategy, context, contexts, down = await run_turn([
        InterimTranscriptionFrame("how much is the pro", "caller", "t"),
        caller_falls_silent(), SleepFrame(0.1),
        TranscriptionFrame("How much is the Pro plan per year?", "caller", "t"), SleepFrame(0.3),
    ])
    assert [c.speculation for c in contexts] == [True, False]
    assert contexts[1].context.get_messages()[-1]["content"] == "How much is the Pro plan per year?"
    assert (strategy.kept, strategy.discarded) == (0, 1)
    assert any(isinstance(f, EagerEndOfTurnCancelFrame) for f in down)


async def test_a_guess_is_withdrawn_when_the_caller_goes_on_speaking():
    strategy, context, contexts, down = await run_turn([
        InterimTranscriptionFrame("I'd like to book", "caller", "t"),
        caller_falls_silent(), SleepFrame(0.1),
        VADUserStartedSpeakingFrame(start_secs=0.2), SleepFrame(0.1),
    ])
    assert [c.speculation for c in contexts] == [True]
    assert (strategy.kept, strategy.discarded) == (0, 1)
    assert any(isinstance(f, EagerEndOfTurnCancelFrame) for f in down)
    assert context.get_messages() == [{"role": "system", "content": "Be brief."}]  # nothing written for a guess


async def test_no_guess_on_words_heard_long_before_the_caller_went_quiet():
    # The interim came a second before the silence began: it misses the end of the sentence, so no guess.
    strategy, context, contexts, down = await run_turn([
        InterimTranscriptionFrame("how much is", "caller", "t"),
        caller_falls_silent(later_secs=1.0), SleepFrame(0.1),
        TranscriptionFrame("How much is the Pro plan?", "caller", "t"), SleepFrame(0.3),
    ])
    assert strategy.started == 0
    assert [(c.speculation, c.context.get_messages()[-1]["content"]) for c in contexts] == [
        (False, "How much is the Pro plan?")]


def test_the_call_pipeline_speculates_only_when_asked_with_a_streaming_stt_and_never_in_the_stock_profile(
        runtime, tmp_path):
    def stop_strategies(speculate, **settings):
        settings = {"deepgram_api_key": "test-key", "deepgram_base_url": "ws://127.0.0.1:9", **settings}
        params, speculation = turn_taking_params(make_settings(tmp_path, **settings), runtime.turn_models, speculate)
        return params.user_turn_strategies.stop, speculation

    stops, speculation = stop_strategies(True)
    assert isinstance(speculation, SpeculativeTurnStopStrategy) and stops == [speculation]
    stops, speculation = stop_strategies(False)
    assert speculation is None and [type(s) for s in stops] == [StreamingTranscriptTurnStop]
    stops, speculation = stop_strategies(True, pipeline_profile="stock")
    assert speculation is None and not any(isinstance(s, StreamingTranscriptTurnStop) for s in stops)
    stops, speculation = stop_strategies(True, stt_provider="embedded")  # the segmented STT ends turns its own way
    assert speculation is None and not any(isinstance(s, StreamingTranscriptTurnStop) for s in stops)


def audio(loud: bool, secs: float = 0.02) -> InputAudioRawFrame:
    samples = np.full(int(8000 * secs), 6000 if loud else 30, dtype=np.int16)
    if loud:
        samples[::2] *= -1
    return InputAudioRawFrame(audio=samples.tobytes(), sample_rate=8000, num_channels=1)


# Caller audio is a system frame in Pipecat: it overtakes the transcripts queued before it unless the test
# leaves time for them (in a call, audio arrives in real time and the queue is empty).


def speech(secs: float) -> list:
    return [audio(True) for _ in range(int(secs / 0.02))]


def quiet(secs: float) -> list:
    return [audio(False) for _ in range(int(secs / 0.02))]


async def test_a_finished_sentence_is_answered_before_the_vad_reports_the_stop_and_kept_when_it_holds():
    strategy, context, contexts, down = await run_turn([
        *speech(0.5), *quiet(0.06),
        InterimTranscriptionFrame("How much is the Pro plan?", "caller", "t"), SleepFrame(0.02),
        *quiet(0.1), SleepFrame(0.05),
    ])
    assert [(c.speculation, c.context.get_messages()[-1]["content"]) for c in contexts] == [
        (True, "How much is the Pro plan?")]  # guessed with no VAD stop yet
    strategy2, context2, contexts2, down2 = await run_turn([
        *speech(0.5), *quiet(0.06),
        InterimTranscriptionFrame("How much is the Pro plan?", "caller", "t"), SleepFrame(0.02),
        *quiet(0.1), caller_falls_silent(), SleepFrame(0.05),
        TranscriptionFrame("How much is the Pro plan?", "caller", "t"), SleepFrame(0.3),
    ])
    assert [c.speculation for c in contexts2] == [True]  # the early guess stands for the turn: no second inference
    assert (strategy2.started, strategy2.kept, strategy2.discarded) == (1, 1, 0)
    assert context2.get_messages()[-1] == {"role": "user", "content": "How much is the Pro plan?"}


async def test_an_early_guess_is_withdrawn_when_loud_audio_returns_before_the_vad_stop():
    strategy, context, contexts, down = await run_turn([
        *speech(0.5), *quiet(0.06),
        InterimTranscriptionFrame("How much is the Pro plan?", "caller", "t"), SleepFrame(0.02),
        *quiet(0.1), *speech(0.1), SleepFrame(0.05),
    ])
    assert [c.speculation for c in contexts] == [True]
    assert (strategy.kept, strategy.discarded) == (0, 1)
    assert any(isinstance(f, EagerEndOfTurnCancelFrame) for f in down)


async def test_no_early_guess_on_an_unfinished_sentence_or_too_short_a_quiet():
    strategy, context, contexts, down = await run_turn([
        *speech(0.5), *quiet(0.06),
        InterimTranscriptionFrame("And what about", "caller", "t"), SleepFrame(0.02),
        *quiet(0.2), SleepFrame(0.05),
    ])
    assert strategy.started == 0 and not contexts
    strategy, context, contexts, down = await run_turn([  # a fragment the STT punctuates anyway
        *speech(0.5), *quiet(0.06),
        InterimTranscriptionFrame("And what about?", "caller", "t"), SleepFrame(0.02),
        *quiet(0.2), SleepFrame(0.05),
    ])
    assert strategy.started == 0 and not contexts
    strategy, context, contexts, down = await run_turn([
        *speech(0.5), InterimTranscriptionFrame("How much is the Pro plan?", "caller", "t"), SleepFrame(0.02),
        *quiet(0.06), *speech(0.3), SleepFrame(0.05),
    ])
    assert strategy.started == 0 and not contexts


def final(text: str) -> TranscriptionFrame:
    frame = TranscriptionFrame(text, "caller", "t")
    frame.finalized = True  # the STT's endpointer heard the speech end (Deepgram's speech_final)
    return frame


async def early_guesses(transcript) -> list[str]:
    """What is guessed before any VAD stop when `transcript` arrives 0.06 s into the caller's quiet."""
    strategy, context, contexts, down = await run_turn([
        *speech(0.5), *quiet(0.06), transcript, SleepFrame(0.02), *quiet(0.1), SleepFrame(0.05),
    ])
    return [c.context.get_messages()[-1]["content"] for c in contexts if c.speculation]


async def test_words_heard_in_the_quiet_are_answered_early_though_the_stt_left_them_unpunctuated():
    heard = "Hi I have a question about your plans"
    assert await early_guesses(InterimTranscriptionFrame(heard, "caller", "t")) == [heard]
    assert await early_guesses(final("Goodbye")) == ["Goodbye"]
    assert await early_guesses(final("Yes")) == ["Yes"]
    # Words that trail off are not guessed on, punctuated or not: the caller is mid-thought.
    for trailing in ["And what about", "And what about?", "I'd like to book for my", "Do you have a...",
                     "Do you have a f-"]:
        assert await early_guesses(InterimTranscriptionFrame(trailing, "caller", "t")) == [], trailing


async def test_a_final_that_lands_while_the_caller_speaks_again_does_not_end_the_turn():
    # "Okay, thanks." is finalised while "Goodbye." is being said: at the next VAD stop the turn must wait for
    # the final of the new words instead of ending on the old ones.
    strategy = StreamingTranscriptTurnStop(turn_analyzer=FixedTurnVerdict(EndOfTurnState.COMPLETE))
    context = LLMContext(messages=[{"role": "system", "content": "Be brief."}])
    user = LLMContextAggregatorPair(context, user_params=LLMUserAggregatorParams(
        user_turn_strategies=UserTurnStrategies(stop=[strategy]), user_turn_stop_timeout=10.0)).user()
    earlier = TranscriptionFrame("Okay, thanks.", "caller", "t")
    earlier.finalized = True
    last = TranscriptionFrame("Goodbye.", "caller", "t")
    last.finalized = True
    budget = STTMetadataFrame(service_name="stt", ttfs_p99_latency=3.0)  # the STT's final is due within 3 s
    down, _ = await run_test(user, frames_to_send=[
        budget, VADUserStartedSpeakingFrame(start_secs=0.2), *speech(0.8), earlier, SleepFrame(0.02), *speech(0.2),
        *quiet(0.2), caller_falls_silent(), SleepFrame(0.1), last, SleepFrame(0.2),
    ])
    contexts = [f for f in down if isinstance(f, LLMContextFrame)]
    # Counting the earlier final, the turn would end on "Okay, thanks." and "Goodbye." would start another.
    assert len(contexts) == 1 and contexts[0].context.get_messages()[-1]["content"] == "Okay, thanks. Goodbye."


async def test_a_final_the_caller_spoke_after_does_not_end_the_turn():
    # "Okay," is finalised in a pause, then the caller says "thanks." and stops: the turn waits for the final of
    # "thanks." instead of ending on "Okay," (whose late neighbour would then start a turn of its own).
    strategy = StreamingTranscriptTurnStop(turn_analyzer=FixedTurnVerdict(EndOfTurnState.COMPLETE))
    context = LLMContext(messages=[{"role": "system", "content": "Be brief."}])
    user = LLMContextAggregatorPair(context, user_params=LLMUserAggregatorParams(
        user_turn_strategies=UserTurnStrategies(stop=[strategy]), user_turn_stop_timeout=10.0)).user()
    budget = STTMetadataFrame(service_name="stt", ttfs_p99_latency=3.0)
    down, _ = await run_test(user, frames_to_send=[
        budget, VADUserStartedSpeakingFrame(start_secs=0.2), *speech(0.6), *quiet(0.2), final("Okay,"),
        SleepFrame(0.02), *speech(0.4), *quiet(0.2), caller_falls_silent(), SleepFrame(0.1), final("thanks."),
        SleepFrame(0.2),
    ])
    contexts = [f.context.get_messages()[-1]["content"] for f in down if isinstance(f, LLMContextFrame)]
    assert contexts == ["Okay, thanks."]


async def unfinished_by_the_turn_model(words: str, quiet_secs: float) -> list[str]:
    """One turn the turn model calls unfinished (as smart-turn sometimes does of a finished sentence): the caller's
    words, if the turn ended once the caller had been quiet `quiet_secs` after a final transcript of `words`."""
    strategy = StreamingTranscriptTurnStop(turn_analyzer=FixedTurnVerdict(EndOfTurnState.INCOMPLETE))
    context = LLMContext(messages=[{"role": "system", "content": "Be brief."}])
    user = LLMContextAggregatorPair(context, user_params=LLMUserAggregatorParams(
        user_turn_strategies=UserTurnStrategies(stop=[strategy]), user_turn_stop_timeout=10.0)).user()
    final = TranscriptionFrame(words, "caller", "t")
    final.finalized = True
    down, _ = await run_test(user, frames_to_send=[
        VADUserStartedSpeakingFrame(start_secs=0.2), *speech(0.8), *quiet(0.2), caller_falls_silent(),
        SleepFrame(0.05), final, SleepFrame(0.05), *quiet(quiet_secs), SleepFrame(0.1),
    ])
    if not any(isinstance(f, UserStoppedSpeakingFrame) for f in down):
        return []  # (the aggregator hands on what it has when the test pipeline ends; that is not a turn end)
    return [f.context.get_messages()[-1]["content"] for f in down if isinstance(f, LLMContextFrame)]


async def test_a_final_that_does_not_trail_off_and_half_a_second_of_quiet_end_the_turn_the_turn_model_calls_unfinished():
    assert await unfinished_by_the_turn_model("Okay, thanks. Goodbye.", quiet_secs=0.4) == ["Okay, thanks. Goodbye."]
    # Not sooner: 0.3 s of quiet (0.2 s of it before the VAD stop) keeps the turn open.
    assert await unfinished_by_the_turn_model("Okay, thanks. Goodbye.", quiet_secs=0.1) == []
    # No full stop needed: the STT left the short last word unpunctuated.
    assert await unfinished_by_the_turn_model("Thanks Goodbye", quiet_secs=0.4) == ["Thanks Goodbye"]
    # A trailing-off fragment keeps the turn model's longer wait, even when the STT punctuates it.
    for trailing in ["I was wondering if", "And what about?", "I was wondering..."]:
        assert await unfinished_by_the_turn_model(trailing, quiet_secs=0.6) == [], trailing


def test_a_sentence_is_finished_when_punctuated_as_one_and_not_ending_on_a_dangling_word():
    finished = ["Okay, thanks. Goodbye.", "How much does the Pro plan cost?", "Yes, I am.", "What is this?",
                "Next Tuesday at 2 p.m."]
    unfinished = ["And what about?", "I'd like to book an appointment for.", "My name is", "Wait...",
                  "I was wondering if.", "Can you tell me about the", ""]
    assert [ends_a_sentence(text) for text in finished] == [True] * len(finished)
    assert [ends_a_sentence(text) for text in unfinished] == [False] * len(unfinished)
