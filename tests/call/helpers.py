"""What the call tests share: text squashing for transcripts, runtimes sharing the session's models, calls."""

from __future__ import annotations

import asyncio
import json
import re

from pipecat.audio.turn.base_turn_analyzer import BaseTurnAnalyzer, BaseTurnParams, EndOfTurnState
from sqlalchemy import select

from voiceagent.runtime import AgentRuntime
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import local_server, simulate_call
from voiceagent.storage import CallRecordRow


def squash(text: str) -> str:
    """Lower-case letters and digits only: transcripts differ in punctuation and spacing."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def runtime_with(shared: AgentRuntime, settings, **parts) -> AgentRuntime:
    """A runtime with other settings (and optionally database, knowledge, call control, texts), same models."""
    return AgentRuntime(
        settings=settings,
        turn_models=shared.turn_models,
        speech_models=shared.speech_models,
        database=parts.get("database", shared.database),
        knowledge=parts.get("knowledge", shared.knowledge),
        call_control=parts.get("call_control"),
        text_messages=parts.get("text_messages"),
    )


async def place_call(agent_runtime: AgentRuntime, caller_voice, lines: list[str], **options):
    """One simulated call: text lines are spoken by the caller voice, '#0' presses keys."""
    turns = [
        CallerTurn(dtmf=line[1:]) if line.startswith("#") else CallerTurn(audio=caller_voice.say(line), text=line)
        for line in lines
    ]
    async with local_server(agent_runtime, agent_runtime.settings) as url:
        return await simulate_call(url, turns, agent_runtime.speech_models, **options)


async def saved_call_record(agent_runtime: AgentRuntime, call_sid: str | None = None) -> CallRecordRow:
    """The record the server saved of a call (that CallSid, else the latest), waiting up to 10 s for the save."""
    query = select(CallRecordRow).order_by(CallRecordRow.id.desc())
    if call_sid is not None:
        query = query.where(CallRecordRow.call_sid == call_sid)
    for _ in range(100):
        with agent_runtime.database.session() as session:
            row = session.scalars(query).first()
            if row is not None:
                session.expunge(row)
                return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"no call record saved{f' for {call_sid}' if call_sid else ''}")


async def spoken_by_agent(agent_runtime: AgentRuntime, call_sid: str | None = None) -> list[str]:
    """What the agent said in that call (else the last saved one), from the server's own record (every line it
    began to say, also one the caller talked over): for checks about what the agent chose to say, independent of
    how the caller-side Whisper hears it on a loaded machine."""
    row = await saved_call_record(agent_runtime, call_sid)
    return [e["text"] for e in json.loads(row.transcript) if e["role"] == "agent"]


async def answers_in_record(agent_runtime: AgentRuntime, report) -> list[str]:
    """The agent's answers in that call, squashed: its lines after each caller line, joined (turns it answered
    with nothing are left out), from the server's record of the call, so a check of what the agent chose to say
    does not hang on how the caller-side Whisper hears a loaded machine's audio ("$99" once came out "$19").
    Also requires that the caller heard a reply."""
    assert report.replies, report.agent_texts
    row = await saved_call_record(agent_runtime, report.result.call_sid)
    answers: list[list[str]] = []
    for entry in json.loads(row.transcript):
        if entry["role"] == "caller":
            answers.append([])
        elif answers:
            answers[-1].append(entry["text"])
    return [squash(" ".join(lines)) for lines in answers if lines]


class FixedTurnVerdict(BaseTurnAnalyzer):
    """A turn model with one answer for every pause: COMPLETE, or INCOMPLETE (as smart-turn sometimes says of
    a finished sentence)."""

    def __init__(self, verdict: EndOfTurnState):
        super().__init__()
        self._verdict = verdict

    @property
    def speech_triggered(self) -> bool:
        return False

    @property
    def params(self) -> BaseTurnParams:
        return BaseTurnParams()

    def append_audio(self, buffer: bytes, is_speech: bool) -> EndOfTurnState:
        return EndOfTurnState.INCOMPLETE

    async def analyze_end_of_turn(self):
        return self._verdict, None

    def clear(self):
        pass
