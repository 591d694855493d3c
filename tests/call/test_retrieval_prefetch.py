"""Retrieval for an LLM brain starts on the transcripts, before the turn ends: the search on the way to the LLM
is one already under way whenever the caller's words were heard before, however they were punctuated."""

from __future__ import annotations

import time

from pipecat.frames.frames import InterimTranscriptionFrame, LLMContextFrame, TranscriptionFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.tests.utils import SleepFrame, run_test

from voiceagent.call.retrieval import RetrievalContext, RetrievalPrefetch
from voiceagent.knowledge.faq import FaqEntry
from voiceagent.knowledge.store import Hit


class CountingKnowledge:
    """The knowledge base's search interface, recording what was searched for."""

    min_score = 0.3

    def __init__(self):
        self.searched: list[str] = []
        self.started: dict[str, float] = {}

    def search(self, query: str, k: int = 3) -> list[Hit]:
        self.searched.append(query)
        self.started[query] = time.monotonic()
        return [Hit(FaqEntry(id="pro", category="plans", question="What does the Pro plan cost?",
                             answer="$99 a month."), score=0.8)]


def caller_turn(words: str) -> LLMContextFrame:
    return LLMContextFrame(LLMContext(messages=[{"role": "user", "content": words}]))


async def searches_for(frames: list) -> tuple[list[str], str, dict[str, float]]:
    knowledge = CountingKnowledge()
    prefetch = RetrievalPrefetch(knowledge)
    down, _ = await run_test(Pipeline([prefetch, RetrievalContext(knowledge, prefetch)]), frames_to_send=frames)
    contexts = [f for f in down if isinstance(f, LLMContextFrame)]
    return knowledge.searched, contexts[-1].context.get_messages()[-1]["content"], knowledge.started


def final(text: str) -> TranscriptionFrame:
    return TranscriptionFrame(text, "caller", "t")


async def test_a_final_punctuated_unlike_the_interim_reuses_the_interims_search():
    searched, message, _ = await searches_for([
        InterimTranscriptionFrame("how much is the pro plan", "caller", "t"), SleepFrame(0.05),
        final("How much is the Pro plan?"), SleepFrame(0.05), caller_turn("How much is the Pro plan?"),
    ])
    assert searched == ["how much is the pro plan"]
    assert "$99 a month." in message and message.endswith("How much is the Pro plan?")


async def test_a_turn_of_several_finals_is_searched_whole_before_the_turn_ends():
    searched, message, started = await searches_for([
        final("Okay, thanks."), SleepFrame(0.05), final("Goodbye."), SleepFrame(0.3),
        caller_turn("Okay, thanks. Goodbye."), SleepFrame(0.05),  # (the next words come seconds later)
        final("Do you have a free trial?"), SleepFrame(0.05), caller_turn("Do you have a free trial?"),
    ])
    # The join was searched when "Goodbye." arrived, not again on the way to the LLM; the next turn starts afresh.
    assert searched == ["Okay, thanks.", "Goodbye.", "Okay, thanks. Goodbye.", "Do you have a free trial?"]
    assert started["Okay, thanks. Goodbye."] - started["Goodbye."] < 0.2  # not 0.3 s later, when the turn ended
    assert message.endswith("Do you have a free trial?")
