"""What the caller actually heard: a mark after each spoken sentence, and the echoes that confirm it."""

from __future__ import annotations

import asyncio
import itertools

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    FunctionCallResultFrame,
    InterruptionFrame,
    LLMContextFrame,
    TTSTextFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voiceagent.shared.frames import PlaybackMarkEchoFrame, PlaybackMarkFrame
from voiceagent.shared.record import CallRecord


class PlaybackTracker(FrameProcessor):
    """Sits before the output transport: sends a mark after each sentence and learns from echoes.

    On barge-in every sentence whose mark has not come back was never heard; it is noted in the
    call record so the next context sent to the brain can drop it.
    """

    def __init__(self, record: CallRecord, **kwargs):
        super().__init__(**kwargs)
        self._record = record
        self._counter = itertools.count(1)
        self._pending: dict[str, str] = {}
        self._cleared: set[str] = set()
        self.all_heard = asyncio.Event()
        self.all_heard.set()

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, PlaybackMarkEchoFrame):
            self._on_echo(frame.mark)
            await self.push_frame(frame, direction)
            return
        if isinstance(frame, InterruptionFrame):
            self._on_interruption()
        await self.push_frame(frame, direction)
        if isinstance(frame, TTSTextFrame) and direction == FrameDirection.DOWNSTREAM and frame.text.strip():
            name = f"utt-{next(self._counter)}"
            self._pending[name] = frame.text.strip()
            self.all_heard.clear()
            self._record.agent_sent(frame.text.strip())
            await self.push_frame(PlaybackMarkFrame(message={"mark": name}))

    def _on_echo(self, name: str) -> None:
        if name in self._cleared:
            self._cleared.discard(name)
            return
        text = self._pending.pop(name, None)
        if text is not None:
            self._record.agent_heard(text)
        if not self._pending:
            self.all_heard.set()

    def _on_interruption(self) -> None:
        for name, text in self._pending.items():
            self._cleared.add(name)
            self._record.agent_unheard(text)
        self._pending.clear()
        self.all_heard.set()


class HeardContextFilter(FrameProcessor):
    """Before the brain: removes agent sentences the caller never heard from the context."""

    def __init__(self, record: CallRecord, **kwargs):
        super().__init__(**kwargs)
        self._record = record

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            # A speculative context is a copy sharing the real one's messages: it gets trimmed copies, and the
            # unheard sentences stay pending for the real context (a kept speculation sends none this turn).
            unheard = self._record.peek_unheard() if frame.speculation else self._record.take_unheard()
            if unheard:
                messages = []
                for message in frame.context.get_messages():
                    if message.get("role") == "assistant" and isinstance(message.get("content"), str):
                        content = message["content"]
                        for text in unheard:
                            content = content.replace(text, "")
                        message = {**message, "content": " ".join(content.split())}
                    messages.append(message)
                frame.context.set_messages([m for m in messages if m.get("role") != "assistant" or m.get("content")])
        await self.push_frame(frame, direction)


class HangupAfterClosing(FrameProcessor):
    """Ends the call once the closing line has been heard and the caller stays silent, whatever the brain.

    The brain marks the call as closing (the offline engine's goodbye, an LLM's end_call tool, the idle check's
    goodbye). The hang-up waits until the agent has stopped speaking and every mark has come back, then
    `silence_secs` of quiet. The caller speaking after the closing was decided cancels it: the call goes on.
    """

    def __init__(self, record: CallRecord, tracker: PlaybackTracker, silence_secs: float, end_call, **kwargs):
        super().__init__(**kwargs)
        self._record = record
        self._tracker = tracker
        self._silence_secs = silence_secs
        self._end_call = end_call
        self._task: asyncio.Task | None = None
        self._bot_speaking = False
        self._caller_speaking = False

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
            await self._cancel()  # more of the closing line is playing: count the silence from its end
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
            self._maybe_start()
        elif isinstance(frame, FunctionCallResultFrame) and direction == FrameDirection.DOWNSTREAM:
            self._maybe_start()  # an LLM that ended the call with no closing line of its own still hangs up
        elif isinstance(frame, UserStartedSpeakingFrame):
            self._caller_speaking = True
            if self._record.closing:
                logger.debug("The caller spoke after the goodbye: the call goes on")
                self._record.closing = False
                await self._cancel()
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self._caller_speaking = False
        await self.push_frame(frame, direction)

    def _maybe_start(self) -> None:
        if self._record.closing and self._task is None and not (self._bot_speaking or self._caller_speaking):
            self._task = self.create_task(self._hang_up_when_quiet())

    async def _cancel(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await self.cancel_task(task)

    async def _hang_up_when_quiet(self):
        try:
            await asyncio.wait_for(self._tracker.all_heard.wait(), timeout=5.0)
        except TimeoutError:
            pass
        await asyncio.sleep(self._silence_secs)
        self._task = None
        if self._record.closing:
            await self._end_call("completed")
