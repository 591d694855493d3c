"""Retrieval for an LLM brain: started on interim transcripts, attached to the context of each turn."""

from __future__ import annotations

import asyncio
import re

from pipecat.frames.frames import Frame, InterimTranscriptionFrame, LLMContextFrame, TranscriptionFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voiceagent.brain.prompt import faq_context
from voiceagent.knowledge import KnowledgeBase
from voiceagent.shared.frames import RetrievalDoneFrame

FAQ_MARKER = "Relevant FAQ"
CALLER_SEPARATOR = "\n\nCaller: "


def _without_faq(message: dict) -> dict:
    content = message.get("content")
    if message.get("role") == "user" and isinstance(content, str) and content.startswith(FAQ_MARKER):
        return {**message, "content": content.split(CALLER_SEPARATOR, 1)[-1]}
    return message


def _search_key(text: str) -> str:
    """Transcripts that differ only in case, punctuation or spacing search for the same thing."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


class RetrievalPrefetch(FrameProcessor):
    """Before the user aggregator: starts a search as soon as an interim or final transcript appears.

    A turn of several final transcripts ("Okay, thanks." then "Goodbye.") reaches the LLM as their join, so
    the join is searched too, the moment its last part arrives: otherwise its search would start only once
    the turn had ended, on the way to the LLM."""

    def __init__(self, knowledge: KnowledgeBase, **kwargs):
        super().__init__(**kwargs)
        self._knowledge = knowledge
        self._pending: dict[str, asyncio.Task] = {}
        self._finals: list[str] = []  # this turn's final transcripts so far

    def take(self, text: str) -> asyncio.Task | None:
        """The search already started for these words, if any."""
        return self._pending.pop(_search_key(text), None)

    def turn_done(self) -> None:
        self._finals.clear()

    def _start(self, text: str) -> None:
        key = _search_key(text)
        if key and key not in self._pending:
            if len(self._pending) > 32:
                self._pending.clear()
            self._pending[key] = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self._knowledge.search, text, 2))

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, (InterimTranscriptionFrame, TranscriptionFrame)) and frame.text.strip():
            self._start(frame.text.strip())
            if isinstance(frame, TranscriptionFrame):
                self._finals.append(frame.text.strip())
                if len(self._finals) > 1:
                    self._start(" ".join(self._finals))
        await self.push_frame(frame, direction)


class RetrievalContext(FrameProcessor):
    """Before the LLM: puts the FAQ hits for the caller's latest words next to them in the context."""

    def __init__(self, knowledge: KnowledgeBase, prefetch: RetrievalPrefetch, **kwargs):
        super().__init__(**kwargs)
        self._knowledge = knowledge
        self._prefetch = prefetch

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            hits = await self._attach(frame)
            await self.push_frame(RetrievalDoneFrame(hits=hits), FrameDirection.DOWNSTREAM)
        await self.push_frame(frame, direction)

    async def _attach(self, frame: LLMContextFrame) -> int:
        # Earlier turns keep only the caller's words; only the latest turn carries FAQ hits.
        messages = [_without_faq(m) for m in frame.context.get_messages()]
        last_user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
        if last_user is None or not isinstance(last_user.get("content"), str):
            frame.context.set_messages(messages)
            return 0
        text = last_user["content"].strip()
        task = self._prefetch.take(text)
        self._prefetch.turn_done()
        hits = await task if task else await asyncio.to_thread(self._knowledge.search, text, 2)
        hits = [hit for hit in hits if hit.score >= self._knowledge.min_score]
        index = messages.index(last_user)
        # Anthropic needs alternating roles, so the FAQ rides in the caller's own message.
        messages[index] = {**last_user, "content": f"{faq_context(hits)}{CALLER_SEPARATOR}{text}"}
        frame.context.set_messages(messages)
        return len(hits)
