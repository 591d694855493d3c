"""Runs a simulated call against a server (given or started in-process) and reports what happened."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

from voiceagent.simulate.audio import SAMPLE_RATE, read_wav, timeline_tracks, write_wav
from voiceagent.simulate.caller import CallerTurn, CallResult, TwilioCaller
from voiceagent.simulate.voices import CallerVoice
from voiceagent.simulate.webhook import answer_call


@dataclass
class CallReport:
    """A simulated call with the agent's speech transcribed."""

    result: CallResult
    agent_texts: list[str] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return self.result.latencies

    @property
    def greeting(self) -> str:
        """What the agent said before the caller's first turn ended: one text, even when a stall on a loaded
        machine split it into two replies (the harness starts a new reply after 0.8 s of silence)."""
        first = self.result.turns[0].speech_end if self.result.turns else float("inf")
        return " ".join(text for speech, text in zip(self.result.agent, self.agent_texts) if speech.started < first)

    @property
    def replies(self) -> list[str]:
        """The agent's replies after the greeting (each started once the caller's first turn had ended)."""
        first = self.result.turns[0].speech_end if self.result.turns else float("inf")
        return [text for speech, text in zip(self.result.agent, self.agent_texts) if speech.started >= first]

    def timeline(self) -> list[tuple[float, str, str]]:
        """(seconds since call start, who, what) in time order."""
        started = self.result.started
        rows = [(t.speech_end - started, "caller", t.caller_text) for t in self.result.turns]
        rows += [(s.started - started, "agent", text + (" [cut off]" if s.cleared else ""))
                 for s, text in zip(self.result.agent, self.agent_texts)]
        return sorted(rows)


def parse_turns(says: list[str], wavs: list[Path], voice: CallerVoice | None) -> list[CallerTurn]:
    """Caller turns from text lines (spoken by the local voice) and WAV files, in that order.

    A line starting with `!` barges in 1.5 s after the agent starts its reply; `#123` presses keys.
    """
    turns: list[CallerTurn] = []
    for line in says:
        if line.startswith("#"):
            turns.append(CallerTurn(dtmf=line[1:]))
            continue
        barge = line.startswith("!")
        text = line[1:].strip() if barge else line
        if voice is None:
            raise ValueError("a text caller line needs the local voice")
        turns.append(CallerTurn(audio=voice.say(text), text=text, barge_in_after=1.5 if barge else None))
    for path in wavs:
        turns.append(CallerTurn(audio=read_wav(path), text=f"<{path.name}>"))
    return turns


def transcribe_agent(result: CallResult, speech_models) -> list[str]:
    texts = []
    for speech in result.agent:
        pcm = np.concatenate(speech.pcm).astype(np.float32) / 32768.0
        texts.append(speech_models.transcribe(soxr.resample(pcm, SAMPLE_RATE, 16000)))
    return texts


def save_call_audio(path: Path, result: CallResult) -> None:
    """Stereo WAV on one timeline: caller on the left, agent (as played) on the right."""
    end = max([result.started] + [at + len(p) / SAMPLE_RATE for at, p in result.caller_track + result.agent_track])
    write_wav(path, [timeline_tracks(result.started, result.caller_track, end),
                     timeline_tracks(result.started, result.agent_track, end)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def local_server(runtime, settings):
    """Serve the app in this process on a free loopback port; yields the media WebSocket URL."""
    from voiceagent.server import create_app, make_server

    port = free_port()
    server = make_server(create_app(settings, runtime=runtime), "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/ws/media"
    finally:
        # Shutdown lets calls whose caller hung up finish and save their records (the app's shutdown grace).
        server.should_exit = True
        await task


def signed_headers(url: str, auth_token: str | None) -> dict:
    """X-Twilio-Signature for the WebSocket upgrade, as Twilio signs it (URL, no form parameters)."""
    if not auth_token:
        return {}
    from twilio.request_validator import RequestValidator

    return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, {})}


async def twilio_call(url: str, turns: list[CallerTurn], *, caller_number: str = "+15550100",
                      auth_token: str | None = None, hang_up_after_secs: float = 2.5, **caller_options) -> CallResult:
    """One call as Twilio places it: the signed voice webhook first, then the media stream its TwiML names with
    the TwiML's parameters (the stream token). A server without a webhook (404) is streamed to directly."""
    caller = TwilioCaller(url, caller_number=caller_number, **caller_options)
    answer = await answer_call(url, call_sid=caller.call_sid, caller_number=caller_number, auth_token=auth_token)
    if answer is not None and answer.stream_url is None:
        return CallResult(stream_sid=caller.stream_sid, call_sid=caller.call_sid, started=time.monotonic(),
                          refused=answer.said or "hung up")
    if answer is not None:
        caller.url, caller.custom_parameters = answer.stream_url, answer.parameters
    caller.headers = signed_headers(caller.url, auth_token)
    return await caller.run(turns, hang_up_after_secs=hang_up_after_secs)


async def simulate_call(url: str, turns: list[CallerTurn], speech_models, *, caller_number: str = "+15550100",
                        save: Path | None = None, auth_token: str | None = None,
                        line_noise: np.ndarray | None = None, hang_up_after_secs: float = 2.5) -> CallReport:
    result = await twilio_call(url, turns, caller_number=caller_number, auth_token=auth_token, line_noise=line_noise,
                               hang_up_after_secs=hang_up_after_secs)
    report = CallReport(result=result, agent_texts=await asyncio.to_thread(transcribe_agent, result, speech_models))
    if save:
        save_call_audio(save, result)
    return report


def summarize(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {}
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    return {"turns": len(ordered), "median": statistics.median(ordered), "p95": percentile(0.95),
            "p99": percentile(0.99), "max": ordered[-1]}
