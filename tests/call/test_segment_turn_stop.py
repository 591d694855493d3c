"""The embedded STT's turn stop: a finished sentence ends the turn soon after it, a fragment does not."""

from __future__ import annotations

import numpy as np
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.frames.frames import (
    InputAudioRawFrame,
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
from voiceagent.call.turn_taking.segmented_stop import SegmentTranscriptTurnStop


def audio(secs: float, level: float) -> list[InputAudioRawFrame]:
    """20 ms phone frames of a tone at `level` (0 = silence)."""
    t = np.arange(160) / 8000
    chunk = (level * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes()
    return [InputAudioRawFrame(audio=chunk, sample_rate=8000, num_channels=1) for _ in range(int(secs / 0.02))]


async def turn_ended(transcript: str, after: list[InputAudioRawFrame],
                     verdict: EndOfTurnState = EndOfTurnState.INCOMPLETE) -> bool:
    strategy = SegmentTranscriptTurnStop(turn_analyzer=FixedTurnVerdict(verdict))
    user = LLMContextAggregatorPair(LLMContext(), user_params=LLMUserAggregatorParams(
        user_turn_strategies=UserTurnStrategies(stop=[strategy]), user_turn_stop_timeout=30.0)).user()
    # Caller audio is a system frame and would overtake the transcript (a data frame) without the pause.
    frames = [VADUserStartedSpeakingFrame(start_secs=0.2), *audio(0.5, 3000), VADUserStoppedSpeakingFrame(stop_secs=0.55),
              TranscriptionFrame(transcript, "caller", "t", finalized=True), SleepFrame(0.1), *after]
    down, _ = await run_test(user, frames_to_send=frames)
    return any(isinstance(frame, UserStoppedSpeakingFrame) for frame in down)


async def test_a_finished_sentence_ends_the_turn_after_a_short_quiet():
    assert await turn_ended("I'd like to book an appointment for Tuesday at two in the afternoon.", audio(0.3, 0))
    assert await turn_ended("How much is the Pro plan?", audio(0.3, 30))  # line hiss is quiet


async def test_a_fragment_or_new_sound_keeps_the_turn_open():
    assert not await turn_ended("I was wondering", audio(0.3, 0))  # no full stop: the caller trails off
    assert not await turn_ended("I was wondering...", audio(0.3, 0))
    assert not await turn_ended("Okay, thanks.", audio(0.3, 3000))  # "Goodbye." starting before VAD confirms it
    assert not await turn_ended("How much is the Pro plan?", audio(0.1, 0))  # not quiet for long enough yet


async def test_an_unpunctuated_question_or_request_ends_the_turn_as_a_punctuated_one():
    assert await turn_ended("how much is the pro plan", audio(0.3, 0))  # Whisper in lower case, no question mark
    assert await turn_ended("um can i book a demo for tuesday at two", audio(0.3, 0))
    assert await turn_ended("I'd like to talk to a person", audio(0.3, 0))


async def test_an_unpunctuated_fragment_still_waits():
    assert not await turn_ended("how much is the", audio(0.3, 0))  # trails off on a dangling word
    assert not await turn_ended("so what about", audio(0.3, 0))
    assert not await turn_ended("can i,", audio(0.3, 0))
    assert not await turn_ended("the pro plan", audio(0.3, 0))  # opens like neither a question nor a request


def test_which_bare_transcripts_read_as_finished():
    from voiceagent.call.turn_taking.sentences import reads_as_finished

    assert reads_as_finished("what are your hours") and reads_as_finished("Is there a free trial")
    assert reads_as_finished("Okay, thanks.")  # punctuated: as before
    assert not reads_as_finished("what are") and not reads_as_finished("i was wondering if")
    assert not reads_as_finished("And what about?")  # punctuated but dangling: as before
    # A bare sign-off is finished however it opens; a bare thanks may go on.
    assert reads_as_finished("Okay, fans, goodbye") and reads_as_finished("that's all have a nice day")
    assert reads_as_finished("ok bye bye") and not reads_as_finished("okay thank you")
    assert not reads_as_finished("goodbye and")  # still trails off
    # Why the caller calls, stated bare (Whisper wrote slt's "Hi, I have a question about your plans." so)
    assert reads_as_finished("Hi, I have a question about your plans")
    assert reads_as_finished("i'm calling about my invoice") and reads_as_finished("we need more seats")
    assert not reads_as_finished("i have a question about") and not reads_as_finished("i have two")


async def test_a_fragment_holds_the_turn_models_finished_for_a_moment():
    complete = EndOfTurnState.COMPLETE
    assert await turn_ended("How much is the Pro plan?", [], complete)  # the model's verdict, at once
    assert not await turn_ended("and what about", audio(0.3, 0), complete)  # a pause mid-sentence: held...
    assert await turn_ended("and what about", audio(0.8, 0), complete)  # ...then the model's verdict stands
    assert await turn_ended("", [], complete)  # no words at all is not a fragment: settled at once
