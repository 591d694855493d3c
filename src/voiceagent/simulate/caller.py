"""A caller that speaks the Twilio Media Streams protocol exactly as Twilio does, in real time."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from voiceagent.simulate.audio import FRAME_BYTES, FRAME_SECS, SAMPLE_RATE, mulaw_decode, mulaw_encode

SILENCE_FRAME = mulaw_encode(np.zeros(FRAME_BYTES, dtype=np.int16))
SILENCE_PAYLOAD = base64.b64encode(SILENCE_FRAME).decode()
SILENCE_PCM = mulaw_decode(SILENCE_FRAME)
LATE_FRAME_SECS = 0.04  # a frame this late after the audio before it ran out is an audible gap
REPLY_GAP_SECS = 0.8  # a longer silence starts a new reply


@dataclass
class CallerTurn:
    """One thing the caller does: speak (PCM 8 kHz int16), press keys, or barge in early."""

    audio: np.ndarray | None = None
    text: str = ""
    dtmf: str = ""
    wait_for_agent: bool = True  # wait until the agent has finished speaking first
    barge_in_after: float | None = None  # speak this many seconds after the agent starts talking
    pause_secs: float = 0.6  # silence before speaking, once the agent is done
    _payloads: list[tuple[str, np.ndarray]] | None = field(default=None, repr=False, compare=False)

    def payloads(self) -> list[tuple[str, np.ndarray]]:
        """The audio as Twilio's 20 ms media payloads (base64 mu-law) with the PCM the line carries; encoded
        once, however many calls of a bench say this turn."""
        if self._payloads is None and self.audio is not None:
            audio = self.audio.astype(np.int16)
            encoded = []
            for i in range(0, len(audio), FRAME_BYTES):
                frame = audio[i:i + FRAME_BYTES]
                if len(frame) < FRAME_BYTES:
                    frame = np.pad(frame, (0, FRAME_BYTES - len(frame)))
                payload = mulaw_encode(frame)
                encoded.append((base64.b64encode(payload).decode(), mulaw_decode(payload)))
            self._payloads = encoded
        return self._payloads or []


@dataclass
class AgentSpeech:
    """Agent audio of one reply as heard at the phone side."""

    started: float
    pcm: list[np.ndarray] = field(default_factory=list)  # empty unless the caller keeps audio
    text: str = ""
    cleared: bool = False
    samples: int = 0


@dataclass
class TurnResult:
    caller_text: str
    speech_end: float
    first_agent_audio: float | None = None

    @property
    def latency(self) -> float | None:
        return None if self.first_agent_audio is None else self.first_agent_audio - self.speech_end


@dataclass
class CallResult:
    """Everything the simulated call observed."""

    stream_sid: str
    call_sid: str
    started: float
    turns: list[TurnResult] = field(default_factory=list)
    agent: list[AgentSpeech] = field(default_factory=list)
    marks_sent_back: int = 0
    clears: int = 0
    hung_up_by_agent: bool = False
    ended: float | None = None  # when the socket closed (monotonic), whoever hung up
    close_code: int | None = None
    close_reason: str = ""
    refused: str = ""  # what the webhook said instead of connecting the call (busy, too many calls)
    caller_track: list[tuple[float, np.ndarray]] = field(default_factory=list)
    agent_track: list[tuple[float, np.ndarray]] = field(default_factory=list)
    agent_frames: int = 0  # outbound media messages received
    late_frames: int = 0  # arrived after the audio before them had finished playing, mid-reply (an audible gap)
    underruns: list[float] = field(default_factory=list)  # seconds of each such gap

    @property
    def latencies(self) -> list[float]:
        return [t.latency for t in self.turns if t.latency is not None]


class TwilioCaller:
    """Drives one call: `connected`, `start`, 20 ms `media` frames in real time, marks, `stop`."""

    def __init__(self, url: str, *, caller_number: str = "+15550100", headers: dict | None = None,
                 agent_quiet_secs: float = 1.2, reply_timeout: float = 12.0, call_sid: str | None = None,
                 custom_parameters: dict[str, str] | None = None, keep_audio: bool = True,
                 line_noise: np.ndarray | None = None):
        self.url = url
        # A noisy line: this int16 audio (looped) is under every frame the caller sends, speech and silence alike.
        self.line_noise = line_noise.astype(np.int32) if line_noise is not None and len(line_noise) else None
        self._noise_at = 0
        self.caller_number = caller_number
        self.headers = headers or {}
        # The TwiML's <Parameter>s (the stream token); without a webhook, the old direct path's caller and CallSid.
        self.custom_parameters = custom_parameters
        self.keep_audio = keep_audio  # both sides' audio kept for --save and checks; a bench needs only timings
        self.agent_quiet_secs = agent_quiet_secs
        self.reply_timeout = reply_timeout
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.call_sid = call_sid or "CA" + uuid.uuid4().hex
        self._outgoing: asyncio.Queue[tuple[str, np.ndarray]] = asyncio.Queue()
        self._play_end = 0.0  # when the agent audio buffered at "Twilio" finishes playing
        self._pending_marks: list[tuple[float, str]] = []
        self._last_agent_media = 0.0
        self._speech: AgentSpeech | None = None
        self._closed = asyncio.Event()
        self._stop_sent = False

    async def run(self, turns: list[CallerTurn], *, hang_up_after_secs: float = 2.5) -> CallResult:
        result = CallResult(stream_sid=self.stream_sid, call_sid=self.call_sid, started=time.monotonic())
        self.result = result
        try:
            async with connect(self.url, additional_headers=self.headers, max_size=2**22) as ws:
                self._ws = ws
                await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
                await ws.send(json.dumps(self._start_message()))
                sender = asyncio.create_task(self._send_media())
                receiver = asyncio.create_task(self._receive())
                try:
                    await self._play(turns, hang_up_after_secs)
                finally:
                    if not self._closed.is_set():
                        await asyncio.sleep(0.05)
                        self._stop_sent = True
                        try:
                            await ws.send(json.dumps(self._event("stop", stop={"accountSid": "AC" + "0" * 32,
                                                                             "callSid": self.call_sid})))
                        except ConnectionClosed:
                            pass
                    sender.cancel()
                    await asyncio.sleep(0.1)
                    receiver.cancel()
                    await asyncio.gather(sender, receiver, return_exceptions=True)
        except ConnectionClosed as closed:
            result.close_code = closed.rcvd.code if closed.rcvd else None
        return result

    # -- protocol -----------------------------------------------------------------------------

    def _event(self, name: str, **body) -> dict:
        self._sequence = getattr(self, "_sequence", 0) + 1
        return {"event": name, "sequenceNumber": str(self._sequence), "streamSid": self.stream_sid, **body}

    def _start_message(self) -> dict:
        return self._event("start", start={
            "accountSid": "AC" + "0" * 32, "streamSid": self.stream_sid, "callSid": self.call_sid,
            "tracks": ["inbound"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": (self.custom_parameters if self.custom_parameters is not None
                                 else {"caller": self.caller_number, "callSid": self.call_sid}),
        })

    async def _send_media(self):
        """Exactly one 20 ms frame every 20 ms, silence when the caller is quiet (as a phone line does)."""
        chunk = 0
        next_at = time.monotonic()
        while True:
            try:
                payload, pcm = self._outgoing.get_nowait()
            except asyncio.QueueEmpty:
                payload, pcm = SILENCE_PAYLOAD, SILENCE_PCM
            if self.line_noise is not None:
                payload, pcm = self._on_the_line(pcm)
            chunk += 1
            now = time.monotonic()
            if self.keep_audio:
                self.result.caller_track.append((now, pcm))
            await self._ws.send(json.dumps(self._event("media", media={
                "track": "inbound", "chunk": str(chunk), "timestamp": str(int((now - self.result.started) * 1000)),
                "payload": payload})))
            self._echo_due_marks(now)
            next_at += FRAME_SECS
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def _on_the_line(self, pcm: np.ndarray) -> tuple[str, np.ndarray]:
        """One frame with the next 20 ms of the line's noise mixed in, as the payload and the PCM it carries."""
        noise = np.take(self.line_noise, range(self._noise_at, self._noise_at + len(pcm)), mode="wrap")
        self._noise_at = (self._noise_at + len(pcm)) % len(self.line_noise)
        encoded = mulaw_encode(np.clip(pcm.astype(np.int32) + noise, -32768, 32767))
        return base64.b64encode(encoded).decode(), mulaw_decode(encoded)

    def _echo_due_marks(self, now: float) -> None:
        while self._pending_marks and self._pending_marks[0][0] <= now:
            _, name = self._pending_marks.pop(0)
            asyncio.ensure_future(self._ws.send(json.dumps(self._event("mark", mark={"name": name}))))
            self.result.marks_sent_back += 1

    async def _receive(self):
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                event = message.get("event")
                now = time.monotonic()
                if event == "media":
                    self._on_agent_media(now, base64.b64decode(message["media"]["payload"]))
                elif event == "mark":
                    # Twilio echoes a mark once the audio queued before it has played.
                    self._pending_marks.append((max(now, self._play_end), message["mark"]["name"]))
                elif event == "clear":
                    self.result.clears += 1
                    if self._speech and now < self._play_end:
                        self._speech.cleared = True
                    self._play_end = now
                    for _, name in self._pending_marks:
                        await self._ws.send(json.dumps(self._event("mark", mark={"name": name})))
                        self.result.marks_sent_back += 1
                    self._pending_marks.clear()
        except ConnectionClosed as closed:
            self.result.close_code = closed.rcvd.code if closed.rcvd else None
            self.result.close_reason = closed.rcvd.reason if closed.rcvd else ""
        finally:
            self.result.hung_up_by_agent = not self._stop_sent
            self.result.ended = time.monotonic()
            self._closed.set()

    def _on_agent_media(self, now: float, payload: bytes) -> None:
        pcm = mulaw_decode(payload)
        self.result.agent_frames += 1
        gap = now - self._play_end
        if self._play_end and LATE_FRAME_SECS < gap < REPLY_GAP_SECS:
            self.result.late_frames += 1  # the line went quiet mid-reply, waiting for this frame
            self.result.underruns.append(gap)
        starts = max(now, self._play_end)
        self._play_end = starts + len(pcm) / SAMPLE_RATE
        self._last_agent_media = now
        if self.keep_audio:
            self.result.agent_track.append((starts, pcm))
        turn = self.result.turns[-1] if self.result.turns else None
        if turn and turn.first_agent_audio is None and now > turn.speech_end and int(np.abs(pcm).max(initial=0)) >= 200:
            turn.first_agent_audio = now
        silent = int(np.abs(pcm).max(initial=0)) < 200
        if not silent and (self._speech is None or starts - self._speech_end_time() > REPLY_GAP_SECS):
            self._speech = AgentSpeech(started=starts)
            self.result.agent.append(self._speech)
        if self._speech is not None:
            self._speech.samples += len(pcm)
            if self.keep_audio:
                self._speech.pcm.append(pcm)

    def _speech_end_time(self) -> float:
        if not self._speech:
            return 0.0
        return self._speech.started + self._speech.samples / SAMPLE_RATE

    # -- the caller's behaviour ---------------------------------------------------------------

    def agent_is_quiet(self) -> bool:
        now = time.monotonic()
        return now >= self._play_end + 0.05 and now - self._last_agent_media >= self.agent_quiet_secs

    async def _wait_for_agent(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        # First wait for the agent to answer the caller's last words, then for it to finish playing.
        since = self.result.turns[-1].speech_end if self.result.turns else 0.0
        while (self._last_agent_media <= since and time.monotonic() < deadline
               and not self._closed.is_set()):
            await asyncio.sleep(0.02)
        while not self.agent_is_quiet() and time.monotonic() < deadline and not self._closed.is_set():
            await asyncio.sleep(0.02)

    async def _play(self, turns: list[CallerTurn], hang_up_after_secs: float) -> None:
        deadline = time.monotonic() + self.reply_timeout
        while not self.result.agent and time.monotonic() < deadline and not self._closed.is_set():
            await asyncio.sleep(0.02)  # the greeting has started
        for turn in turns:
            if self._closed.is_set():
                return
            if turn.barge_in_after is not None:
                await self._barge_in_point(turn.barge_in_after)
            elif turn.wait_for_agent:
                await self._wait_for_agent(self.reply_timeout)
                await asyncio.sleep(turn.pause_secs)
            if turn.dtmf:
                for digit in turn.dtmf:
                    await self._ws.send(json.dumps(self._event("dtmf", dtmf={"track": "inbound_track", "digit": digit})))
                if turn.audio is None:
                    self.result.turns.append(TurnResult(caller_text=f"[pressed {turn.dtmf}]", speech_end=time.monotonic()))
            if turn.audio is not None:
                await self._speak(turn)
        # Hear the last answer out (unless the agent hangs up first).
        await self._wait_for_agent(self.reply_timeout)
        if not self._closed.is_set():
            try:
                await asyncio.wait_for(self._closed.wait(), timeout=hang_up_after_secs)
            except TimeoutError:
                pass

    async def _barge_in_point(self, after: float) -> None:
        """Sleep until `after` seconds into the agent's current (or else next) reply."""
        deadline = time.monotonic() + self.reply_timeout
        playing = time.monotonic() < self._play_end
        speeches = len(self.result.agent)
        while not playing and len(self.result.agent) == speeches and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        started = self.result.agent[-1].started if self.result.agent else time.monotonic()
        await asyncio.sleep(max(0.0, started + after - time.monotonic()))

    async def _speak(self, turn: CallerTurn) -> None:
        for frame in turn.payloads():
            self._outgoing.put_nowait(frame)
        # Wait until the last frame has gone out: that is the end of the caller's speech.
        while not self._outgoing.empty() and not self._closed.is_set():
            await asyncio.sleep(0.005)
        self.result.turns.append(TurnResult(caller_text=turn.text, speech_end=time.monotonic() - _trailing_silence(turn.audio.astype(np.int16))))


def _trailing_silence(audio: np.ndarray, threshold: int = 300) -> float:
    """Seconds of near-silence at the end of the utterance (so latency counts from the last word)."""
    loud = np.nonzero(np.abs(audio) > threshold)[0]
    if len(loud) == 0:
        return 0.0
    return (len(audio) - loud[-1]) / SAMPLE_RATE
