"""The call flow's rules on Pipecat pipelines fed with frames (faster than real time, no phone call): when a
listening cue is spoken, the idle check, and the hang-up after the closing line and what cancels it."""

from __future__ import annotations

import time

import pytest
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    FunctionCallInProgressFrame,
    FunctionCallResultFrame,
    LLMContextFrame,
    LLMTextFrame,
    TTSSpeakFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair, LLMUserAggregatorParams
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.tests.utils import SleepFrame, run_test

from voiceagent.call.cues import ListeningCues
from voiceagent.call.idle import watch_idle
from voiceagent.call.playback import HangupAfterClosing, PlaybackTracker
from voiceagent.call.retrieval import RetrievalContext, RetrievalPrefetch
from voiceagent.shared.phrases import IDLE_GOODBYE, LISTENING_CUE, ONE_MOMENT, STILL_THERE
from voiceagent.shared.record import CallRecord

CUE_AFTER = 0.3


class SlowKnowledge:
    """A knowledge base whose search takes `secs` (the real RetrievalContext runs it in a thread)."""

    min_score = 0.0

    def __init__(self, secs: float):
        self.secs = secs

    def search(self, text: str, k: int):
        time.sleep(self.secs)
        return []


def cue_pipeline(search_secs: float) -> tuple[Pipeline, ListeningCues]:
    """watch -> retrieval -> (the LLM would be here) -> speaker, as call/pipeline.py places them."""
    knowledge = SlowKnowledge(search_secs)
    cues = ListeningCues(CUE_AFTER)
    return Pipeline([cues.watch, RetrievalContext(knowledge, RetrievalPrefetch(knowledge)), cues.speaker]), cues


def turn(text: str = "How much is the Pro plan?") -> list:
    context = LLMContext(messages=[{"role": "user", "content": text}])
    return [UserStartedSpeakingFrame(), UserStoppedSpeakingFrame(), LLMContextFrame(context=context)]


def tool_call(name: str) -> FunctionCallInProgressFrame:
    return FunctionCallInProgressFrame(function_name=name, tool_call_id="toolu_1", arguments={},
                                       cancel_on_interruption=True)


def spoken(frames) -> list[str]:
    return [frame.text for frame in frames if isinstance(frame, TTSSpeakFrame)]


def position(frames, kind) -> int:
    return next(index for index, frame in enumerate(frames) if isinstance(frame, kind))


async def test_a_slow_lookup_gets_one_cue_before_the_answer():
    pipeline, cues = cue_pipeline(search_secs=CUE_AFTER * 3)
    down, _ = await run_test(pipeline, frames_to_send=[*turn(), LLMTextFrame("The Pro plan is $99."),
                                                      SleepFrame(CUE_AFTER * 4)])
    assert spoken(down) == [LISTENING_CUE]
    assert position(down, TTSSpeakFrame) < position(down, LLMTextFrame)
    cue = next(frame for frame in down if isinstance(frame, TTSSpeakFrame))
    assert cue.append_to_context is False  # never between a tool_use and its result in the LLM's context


async def test_a_quick_lookup_and_a_slow_llm_get_no_cue():
    pipeline, _ = cue_pipeline(search_secs=0.0)
    down, _ = await run_test(pipeline, frames_to_send=[*turn(), SleepFrame(CUE_AFTER * 3),
                                                      LLMTextFrame("The Pro plan is $99.")])
    assert spoken(down) == []


async def test_a_tool_call_gets_a_cue_at_once_and_only_one_per_wait():
    pipeline, _ = cue_pipeline(search_secs=0.0)
    down, _ = await run_test(pipeline, frames_to_send=[
        *turn("Book me for Monday at 10, I'm Jane."), SleepFrame(0.05), tool_call("book_appointment"),
        tool_call("check_appointment"), SleepFrame(CUE_AFTER * 2), LLMTextFrame("You're booked.")])
    assert spoken(down) == [LISTENING_CUE]
    assert position(down, TTSSpeakFrame) < position(down, FunctionCallInProgressFrame)


async def test_no_cue_once_the_answer_began_nor_for_ending_the_call():
    pipeline, _ = cue_pipeline(search_secs=0.0)
    down, _ = await run_test(pipeline, frames_to_send=[
        *turn("Can I talk to a person?"), SleepFrame(0.05), LLMTextFrame("Let me get someone for you."),
        tool_call("escalate_to_human"), SleepFrame(0.05),
        *turn("No, thanks, bye."), SleepFrame(0.05), tool_call("end_call"), SleepFrame(CUE_AFTER * 2)])
    assert spoken(down) == []


async def test_cues_alternate_from_one_wait_to_the_next():
    pipeline, cues = cue_pipeline(search_secs=0.0)
    down, _ = await run_test(pipeline, frames_to_send=[
        *turn("Book me for Monday at 10."), SleepFrame(0.05), tool_call("book_appointment"),
        LLMTextFrame("Booked."), SleepFrame(0.05),
        *turn("Do I have an appointment?"), SleepFrame(0.05), tool_call("check_appointment"),
        LLMTextFrame("You have one on Monday.")])
    assert spoken(down) == [LISTENING_CUE, ONE_MOMENT] == cues.said


async def test_no_cue_over_the_agent_speaking():
    pipeline, _ = cue_pipeline(search_secs=0.0)
    down, _ = await run_test(pipeline, frames_to_send=[
        *turn(), BotStartedSpeakingFrame(), SleepFrame(0.05), tool_call("check_appointment"), SleepFrame(0.1)])
    assert spoken(down) == []


class Ended:
    """Stands for the session's end_call: notes the outcome, after every frame the hang-up saw before it."""

    def __init__(self, log: list):
        self.log = log
        self.outcomes: list[str] = []

    async def __call__(self, outcome: str) -> None:
        self.outcomes.append(outcome)
        self.log.append("ended")


class FrameLog(FrameProcessor):
    def __init__(self, log: list, **kwargs):
        super().__init__(**kwargs)
        self.log = log

    async def process_frame(self, frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        self.log.append(type(frame).__name__)
        await self.push_frame(frame, direction)


SILENCE = 0.3


def hangup_pipeline(record: CallRecord) -> tuple[Pipeline, Ended]:
    log: list = []
    ended = Ended(log)
    tracker = PlaybackTracker(record)
    return Pipeline([tracker, HangupAfterClosing(record, tracker, SILENCE, ended), FrameLog(log)]), ended


def closing_line() -> list:
    return [BotStartedSpeakingFrame(), SleepFrame(0.1), BotStoppedSpeakingFrame()]


async def test_the_closing_line_then_silence_hangs_up_completed():
    record = CallRecord(closing=True)
    pipeline, ended = hangup_pipeline(record)
    await run_test(pipeline, frames_to_send=[*closing_line(), SleepFrame(SILENCE * 3)])
    assert ended.outcomes == ["completed"]


async def test_a_caller_who_speaks_in_the_silence_keeps_the_call():
    record = CallRecord(closing=True)
    pipeline, ended = hangup_pipeline(record)
    await run_test(pipeline, frames_to_send=[*closing_line(), SleepFrame(SILENCE / 3), UserStartedSpeakingFrame(),
                                             UserStoppedSpeakingFrame(), SleepFrame(SILENCE * 3)])
    assert ended.outcomes == [] and record.closing is False


async def test_a_caller_who_talks_over_the_closing_line_keeps_the_call():
    record = CallRecord(closing=True)
    pipeline, ended = hangup_pipeline(record)
    # Barge-in order: the caller starts, the agent's audio stops while the caller is still talking.
    await run_test(pipeline, frames_to_send=[BotStartedSpeakingFrame(), SleepFrame(0.1), UserStartedSpeakingFrame(),
                                             BotStoppedSpeakingFrame(), SleepFrame(SILENCE * 3)])
    assert ended.outcomes == [] and record.closing is False


async def test_end_call_with_no_words_of_its_own_still_hangs_up():
    record = CallRecord()

    class EndCallTool(FrameProcessor):  # the LLM's end_call handler marks the call, then its result flows down
        async def process_frame(self, frame, direction):
            await super().process_frame(frame, direction)
            if isinstance(frame, FunctionCallResultFrame):
                record.closing = True
            await self.push_frame(frame, direction)

    pipeline, ended = hangup_pipeline(record)
    result = FunctionCallResultFrame(function_name="end_call", tool_call_id="toolu_1", arguments={},
                                     result={"ok": True, "ending": True}, run_llm=False)
    await run_test(Pipeline([EndCallTool(), pipeline]), frames_to_send=[result, SleepFrame(SILENCE * 3)])
    assert ended.outcomes == ["completed"]


async def test_a_closing_line_that_starts_after_the_tool_result_is_heard_out_first():
    record = CallRecord(closing=True)
    pipeline, ended = hangup_pipeline(record)
    result = FunctionCallResultFrame(function_name="end_call", tool_call_id="toolu_1", arguments={},
                                     result={"ok": True, "ending": True}, run_llm=False)
    await run_test(pipeline, frames_to_send=[result, SleepFrame(SILENCE / 3), *closing_line(),
                                             SleepFrame(SILENCE * 3)])
    assert ended.outcomes == ["completed"]
    assert ended.log.index("ended") > ended.log.index("BotStoppedSpeakingFrame")


@pytest.fixture
def idle_call():
    """A user aggregator with a short idle timeout, the idle check, and the hang-up, as in a call's pipeline."""
    record = CallRecord()
    aggregators = LLMContextAggregatorPair(LLMContext(), user_params=LLMUserAggregatorParams(user_idle_timeout=0.2))
    check = watch_idle(aggregators.user(), record, "ByteAI")
    pipeline, ended = hangup_pipeline(record)
    return Pipeline([aggregators.user(), pipeline]), record, check, ended


async def test_silence_gets_a_question_then_a_goodbye_and_a_hang_up(idle_call):
    pipeline, record, _, ended = idle_call
    down, _ = await run_test(pipeline, frames_to_send=[
        *closing_line(), SleepFrame(0.4),  # the agent's answer, then nothing from either side
        *closing_line(), SleepFrame(0.4),  # "Are you still there?", then nothing again
        *closing_line(), SleepFrame(SILENCE * 3)])  # the goodbye
    assert spoken(down) == [STILL_THERE, IDLE_GOODBYE.format(business="ByteAI")]
    assert ended.outcomes == ["completed"]


async def test_a_caller_who_answers_the_question_is_asked_again_later_not_dropped(idle_call):
    pipeline, record, check, ended = idle_call
    down, _ = await run_test(pipeline, frames_to_send=[
        *closing_line(), SleepFrame(0.4),  # -> "Are you still there?"
        VADUserStartedSpeakingFrame(), SleepFrame(0.05), UserStoppedSpeakingFrame(),  # "Yes, sorry."
        *closing_line(), SleepFrame(0.4)])  # the agent answers; silence again
    assert spoken(down) == [STILL_THERE, STILL_THERE]
    assert ended.outcomes == [] and record.closing is False
