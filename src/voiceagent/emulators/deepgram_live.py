"""A local server speaking Deepgram's live transcription WebSocket, transcribing with the local Whisper model."""

from __future__ import annotations

import asyncio
import audioop
import hashlib
import json
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import numpy as np
import soxr
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from voiceagent.shared.audio_level import frame_rms

SPEECH_RMS = 300.0
KEY_LEVEL = 100  # samples quieter than this at either end of an utterance do not count towards its identity
REMEMBERED_TRANSCRIPTS = 1024
SPEECH_LEAD_IN_SECS = 0.2  # audio kept before the first loud chunk when recognising
EARLY_SILENCE_SECS = 0.15  # a pause this long starts recognising the utterance so far (the vendor streams)


@dataclass
class DeepgramEmulator:
    speech_models: object
    final_delay_ms: float = 300.0  # the vendor's published median from end of speech to the final result
    idle_timeout_secs: float = 10.0
    api_key: str = "test-key"
    # Faults tests switch on
    drop_after_audio_secs: float = 0.0  # close the socket once this much audio arrived (0 = never)
    drop_after_speech_secs: float = 0.0  # close the socket this far into the next utterance (0 = never)
    unrecognized_next: int = 0  # the next N utterances come back with an empty transcript
    malformed_next: int = 0  # the next N results are preceded by a text frame that is not JSON
    connections: int = 0
    extensions: list = field(default_factory=list)  # Sec-WebSocket-Extensions each connection asked for
    texts_received: list[dict] = field(default_factory=list)
    finals: list[str] = field(default_factory=list)  # final transcripts sent, in order
    decodes: int = 0  # Whisper decodes run (audio heard before is answered from memory)
    decoding: int = 0  # decodes running now, over all connections
    _transcripts: OrderedDict = field(default_factory=OrderedDict)
    _transcripts_lock: threading.Lock = field(default_factory=threading.Lock)

    async def handler(self, connection: ServerConnection) -> None:
        if connection.request.headers.get("Authorization") != f"Token {self.api_key}":
            await connection.close(1008, "invalid credentials")
            return
        self.connections += 1
        self.extensions.append(connection.request.headers.get("Sec-WebSocket-Extensions"))
        params = {k: v[0] for k, v in parse_qs(urlparse(connection.request.path).query).items()}
        await _Session(self, connection, params).run()

    def transcribe(self, pcm: np.ndarray, rate: int) -> str:
        """The vendor's recognition, run on this machine's CPU. The same audio always gets the same words, so
        audio heard before (a bench's many callers saying the same lines) is answered from memory: the
        emulator then costs this machine little, as the vendor's compute would not be on it. The same words
        reach it cut at different points (each caller's 20 ms frames fall differently against the line), so
        the quiet at either end is not part of what it remembers."""
        key = hashlib.blake2b(_without_quiet_ends(pcm).tobytes(), digest_size=16,
                              salt=rate.to_bytes(8, "little")).digest()
        with self._transcripts_lock:
            if key in self._transcripts:
                self._transcripts.move_to_end(key)
                return self._transcripts[key]
            self.decodes += 1
            self.decoding += 1
        try:
            text = self.speech_models.transcribe(soxr.resample(pcm.astype(np.float32) / 32768.0, rate, 16000))
        finally:
            with self._transcripts_lock:
                self.decoding -= 1
        with self._transcripts_lock:
            self._transcripts[key] = text
            while len(self._transcripts) > REMEMBERED_TRANSCRIPTS:
                self._transcripts.popitem(last=False)
        return text


def _without_quiet_ends(pcm: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) >= KEY_LEVEL)
    return pcm[loud[0]:loud[-1] + 1] if len(loud) else pcm  # all quiet: as it is


class _Session:
    def __init__(self, emulator: DeepgramEmulator, connection: ServerConnection, params: dict):
        self.emulator, self.connection = emulator, connection
        self.rate = int(params.get("sample_rate", 16000))
        self.mulaw = params.get("encoding") == "mulaw"
        self.endpointing = int(params.get("endpointing", 300)) / 1000 if params.get("endpointing") != "false" else 0.3
        self.utterance_end = int(params.get("utterance_end_ms", 0)) / 1000
        self.vad_events = params.get("vad_events") == "true"
        self.request_id = str(uuid.uuid4())
        self.audio = np.zeros(0, dtype=np.int16)  # since the last final result
        self.offset = 0.0  # seconds of audio before `self.audio`
        self.speaking = False
        self.silence = 0.0
        self.interim_sent = False
        self.total_audio = 0.0
        self.speech_secs = 0.0  # loud audio in the current utterance
        self.speech_end = 0  # samples of `self.audio` up to the end of the latest loud chunk
        self.speech_start: int | None = None  # where the first loud chunk of `self.audio` begins
        self.early: tuple[int, asyncio.Future] | None = None  # (speech_end, recognition of audio up to it)
        self._senders: set[asyncio.Task] = set()  # early interims on their way (referenced until done)
        self._jobs: asyncio.Queue[dict] = asyncio.Queue()  # results to work out and send, in order

    async def run(self) -> None:
        writer = asyncio.create_task(self._write_results())
        try:
            await self._read()
        finally:
            writer.cancel()

    async def _read(self) -> None:
        try:
            while True:
                try:
                    message = await asyncio.wait_for(self.connection.recv(), self.emulator.idle_timeout_secs)
                except TimeoutError:
                    await self.connection.close(1011, "NET-0001: no audio received within the timeout")
                    return
                if isinstance(message, bytes):
                    self._audio(message)
                    if self._should_drop():
                        await self.connection.close(1011, "internal error")
                        return
                    continue
                control = json.loads(message)
                self.emulator.texts_received.append(control)
                if control.get("type") == "Finalize":
                    self._final(from_finalize=True)
                elif control.get("type") == "CloseStream":
                    self._final(from_finalize=False)
                    await self._jobs.join()
                    await self.connection.send(json.dumps({"type": "Metadata", "request_id": self.request_id,
                                                           "duration": self.total_audio, "channels": 1}))
                    await self.connection.close()
                    return
        except (ConnectionClosed, json.JSONDecodeError):
            return

    def _should_drop(self) -> bool:
        emulator = self.emulator
        if emulator.drop_after_audio_secs and self.total_audio >= emulator.drop_after_audio_secs:
            emulator.drop_after_audio_secs = 0.0
            return True
        if emulator.drop_after_speech_secs and self.speech_secs >= emulator.drop_after_speech_secs:
            emulator.drop_after_speech_secs = 0.0
            return True
        return False

    def _audio(self, data: bytes) -> None:
        """Audio is taken in as fast as it comes; results are worked out and sent by the writer, in order."""
        raw = audioop.ulaw2lin(data, 2) if self.mulaw else data[: len(data) // 2 * 2]
        pcm = np.frombuffer(raw, dtype=np.int16)
        seconds = len(pcm) / self.rate
        self.total_audio += seconds
        self.audio = np.concatenate([self.audio, pcm])
        loud = frame_rms(raw) > SPEECH_RMS
        if loud:
            if not self.speaking and self.vad_events:
                self._queue("event", message={"type": "SpeechStarted", "channel": [0, 1],
                                              "timestamp": self.offset + len(self.audio) / self.rate})
            if self.speech_start is None:
                self.speech_start = len(self.audio) - len(pcm)
            self.speaking, self.silence = True, 0.0
            self.speech_secs += seconds
            self.speech_end = len(self.audio)
        elif self.speaking:
            self.silence += seconds
            if (self.silence >= EARLY_SILENCE_SECS and self.emulator.decoding == 0
                    and (self.early is None or self.early[1].done() and self.early[0] != self.speech_end)):
                # One recognition in flight at a time (pauses between words are many), and only while the
                # decoder is idle: a guess must never delay another caller's final result.
                self._recognise_early()
            if self.silence >= self.endpointing:
                # The final is due `final_delay_ms` after the speech ended (the endpointing wait included).
                self._final(from_finalize=False, delay=self.emulator.final_delay_ms / 1000 - self.silence)
        elif len(self.audio) > self.rate:  # keep a second of lead-in while nobody speaks
            self.offset += (len(self.audio) - self.rate) / self.rate
            self.audio = self.audio[-self.rate:]
        if self.speaking and not self.interim_sent and len(self.audio) > 1.5 * self.rate:
            self.interim_sent = True
            self._queue("interim", audio=self.audio.copy(), speech=self._speech(),
                        recognised=self.emulator.unrecognized_next == 0)

    def _recognise_early(self) -> None:
        """At the first pause, recognise the utterance so far and send it as an interim result when ready;
        the final reuses it if no more speech came, so recognition time is not added after the endpoint."""
        if self.emulator.unrecognized_next > 0:
            return
        audio = self._speech()
        recognition = asyncio.ensure_future(asyncio.to_thread(self.emulator.transcribe, audio, self.rate))
        self.early = (self.speech_end, recognition)
        duration = self.speech_end / self.rate
        sender = asyncio.ensure_future(self._send_early(recognition, self.offset, self.speech_end, duration))
        self._senders.add(sender)
        sender.add_done_callback(self._senders.discard)

    async def _send_early(self, recognition: asyncio.Future, offset: float, speech_end: int, duration: float) -> None:
        """Sent outside the writer's queue (a final never waits for it), and only while still news: no more
        speech and no final since."""
        try:
            text = await recognition
            if text and offset == self.offset and speech_end == self.speech_end:
                await self._results(text, offset, duration, is_final=False, speech_final=False)
        except ConnectionClosed:
            pass

    def _final(self, from_finalize: bool, delay: float = 0.0) -> None:
        recognised = (self.speaking or from_finalize) and len(self.audio) > 0
        if self.speaking and self.emulator.unrecognized_next > 0:
            self.emulator.unrecognized_next -= 1  # this utterance is not recognised
            recognised = False
        early = self.early[1] if self.early and self.early[0] == self.speech_end and self.speech_end else None
        self._queue("final", audio=self.audio.copy(), speech=self._speech(), recognised=recognised,
                    from_finalize=from_finalize, due=time.monotonic() + delay, early=early)
        self.offset += len(self.audio) / self.rate
        self.audio = np.zeros(0, dtype=np.int16)
        self.speaking, self.silence, self.interim_sent, self.speech_secs = False, 0.0, False, 0.0
        self.speech_end, self.speech_start, self.early = 0, None, None

    def _speech(self) -> np.ndarray:
        """What is recognised: the speech with a fixed lead-in (zeros where the buffer has less) and no trailing
        silence. Silence holds no words, and how much of it a buffer has depends on when the previous result
        or the endpoint came; cut this way, the same words give the same audio, to be remembered."""
        if not self.speech_end or self.speech_start is None:
            return self.audio.copy()
        lead = int(SPEECH_LEAD_IN_SECS * self.rate)
        start = max(0, self.speech_start - lead)
        padding = np.zeros(lead - (self.speech_start - start), dtype=np.int16)
        return np.concatenate([padding, self.audio[start: self.speech_end]])

    def _queue(self, kind: str, **job) -> None:
        self._jobs.put_nowait({"kind": kind, "offset": self.offset, **job})

    async def _write_results(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await self._write(job)
            except ConnectionClosed:
                pass
            finally:
                self._jobs.task_done()

    async def _write(self, job: dict) -> None:
        if job["kind"] == "event":
            await self._send(job["message"])
            return
        if job["kind"] == "interim" and self._superseded(job):
            return  # the utterance ended (or a pause is being recognised) before this partial result was worked out
        text = ""
        if job["recognised"]:  # worked out at once, sent when due: the profile's delay includes recognition
            early = job.get("early")
            text = await early if early else await asyncio.to_thread(
                self.emulator.transcribe, job.get("speech", job["audio"]), self.rate)
        await asyncio.sleep(max(0.0, job.get("due", 0.0) - time.monotonic()))
        duration = len(job["audio"]) / self.rate
        if job["kind"] == "interim":
            if text and not self._superseded(job):
                await self._results(text, job["offset"], duration, is_final=False, speech_final=False)
            return
        if text:
            self.emulator.finals.append(text)
        from_finalize = job["from_finalize"]
        await self._results(text, job["offset"], duration, is_final=True, speech_final=not from_finalize,
                            from_finalize=from_finalize)
        if not from_finalize and self.utterance_end:
            await self._send({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": job["offset"] + duration})

    def _superseded(self, job: dict) -> bool:
        """A partial result is news only while its utterance goes on (a slow machine must not send it late)."""
        return job["offset"] != self.offset or self.early is not None

    async def _results(self, text: str, start: float, duration: float, *, is_final: bool, speech_final: bool,
                       from_finalize: bool = False) -> None:
        if self.emulator.malformed_next > 0:
            self.emulator.malformed_next -= 1
            await self.connection.send('{"type": "Results", "channel": {"alternatives": [')  # truncated JSON
        words = [{"word": w.strip(".,?!").lower(), "start": start, "end": start + duration, "confidence": 0.9,
                  "punctuated_word": w} for w in text.split()]
        message = {
            "type": "Results", "channel_index": [0, 1], "duration": duration, "start": start,
            "is_final": is_final, "speech_final": speech_final,
            "channel": {"alternatives": [{"transcript": text, "confidence": 0.9 if text else 0.0, "words": words}]},
            "metadata": {"request_id": self.request_id, "model_uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, "nova-2")),
                         "model_info": {"name": "2-general-nova", "version": "2024-01-09", "arch": "nova-2"}},
        }
        if from_finalize:
            message["from_finalize"] = True
        await self._send(message)

    async def _send(self, message: dict) -> None:
        await self.connection.send(json.dumps(message))


async def start(emulator: DeepgramEmulator, host: str = "127.0.0.1"):
    """Serve on a free loopback port; returns (server, base URL for Pipecat's `base_url`)."""
    server = await serve(emulator.handler, host, 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://{host}:{port}"
