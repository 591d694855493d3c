"""A local server speaking ElevenLabs' multi-stream-input WebSocket, voicing text with the local Piper model."""

from __future__ import annotations

import asyncio
import audioop
import base64
import json
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import numpy as np
import soxr
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

MAX_CONTEXTS = 5
REMEMBERED_CLAUSES = 1024


@dataclass
class ElevenLabsEmulator:
    speech_models: object
    first_audio_ms: float = 250.0
    api_key: str = "test-key"
    refuse_connections: bool = False  # fault: every connection is closed at once (a provider outage)
    disconnect_after_audio: int = 0  # fault: drop the socket after this many audio messages (0 = never)
    reject_status: int = 0  # fault: refuse the WebSocket handshake with this HTTP status (429: quota or rate limit)
    messages: list[dict] = field(default_factory=list)
    syntheses: int = 0  # clauses synthesised (a clause voiced before is sent from memory)
    _voiced: OrderedDict = field(default_factory=OrderedDict)
    _voiced_lock: threading.Lock = field(default_factory=threading.Lock)

    def process_request(self, connection: ServerConnection, request):
        if self.reject_status:
            return connection.respond(self.reject_status, '{"detail": {"status": "too_many_concurrent_requests"}}')
        return None

    async def handler(self, connection: ServerConnection) -> None:
        request = urlparse(connection.request.path)
        if connection.request.headers.get("xi-api-key") != self.api_key:
            await connection.close(1008, "invalid api key")
            return
        if self.refuse_connections:
            await connection.close(1011, "service unavailable")
            return
        query = parse_qs(request.query)
        output_format = query.get("output_format", ["pcm_16000"])[0]
        # auto_mode: each text message is complete and rendered at once; otherwise text is buffered to a sentence.
        auto_mode = query.get("auto_mode", ["false"])[0] == "true"
        contexts: dict[str, list[str]] = {}  # open contexts and their text not yet rendered
        # Contexts render side by side, as the vendor's multi-context socket does: a new reply's text does not
        # wait behind the audio of one that was interrupted. Work for one context stays in order (a chain).
        chains: dict[str, asyncio.Task] = {}
        running: set[asyncio.Task] = set()
        sent_audio = [0]  # audio messages sent on this connection

        def then(context: str, work) -> None:
            previous = chains.get(context)

            async def step():
                if previous is not None:
                    await asyncio.gather(previous, return_exceptions=True)
                try:
                    await work()
                except ConnectionClosed:
                    pass

            task = asyncio.create_task(step())
            chains[context] = task
            running.add(task)
            task.add_done_callback(running.discard)

        try:
            async for raw in connection:
                message = json.loads(raw)
                self.messages.append(message)
                context = message.get("context_id", "default")
                if message.get("close_socket"):
                    break
                if message.get("close_context"):
                    contexts.pop(context, None)
                    # isFinal follows the context's last audio (what it was rendering still comes first)
                    then(context, lambda c=context: connection.send(json.dumps({"isFinal": True, "contextId": c})))
                    chains.pop(context, None)
                    continue
                if context not in contexts:
                    if len(contexts) >= MAX_CONTEXTS:
                        await connection.close(1008, "too many open contexts")
                        return
                    contexts[context] = []
                text = message.get("text", "")
                if text.strip():
                    contexts[context].append(text)
                if message.get("flush") or (text.strip() and (auto_mode or text.rstrip().endswith((".", "!", "?")))):
                    pending = " ".join(contexts[context]).strip()
                    contexts[context] = []
                    if pending:
                        # First audio is due `first_audio_ms` after the text arrived (synthesis time included)
                        due = time.monotonic() + self.first_audio_ms / 1000
                        then(context, lambda c=context, t=pending, d=due: self._render(connection, c, t, d,
                                                                                       output_format, sent_audio))
        except (ConnectionClosed, json.JSONDecodeError):
            return
        finally:
            for task in list(running):
                task.cancel()

    async def _render(self, connection: ServerConnection, context: str, text: str, due: float,
                      output_format: str, sent_audio: list[int]) -> None:
        """Stream one text's audio: clause by clause as it is synthesised, as the vendor streams audio before a
        whole sentence is rendered, with the characters each message voices."""
        for sentence in re.split(r"(?<=[.!?,;:])\s+", text):
            payloads = await asyncio.to_thread(self._speak, sentence, output_format)
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            for (payload, duration_ms), chars in zip(payloads, _share_chars(sentence, len(payloads))):
                reply = {"audio": payload, "contextId": context, "isFinal": None}
                if chars:  # as the vendor does: the characters voiced in this chunk, timed from its start
                    step = duration_ms / len(chars)
                    reply["alignment"] = {"chars": chars,
                                          "charStartTimesMs": [round(step * i) for i in range(len(chars))],
                                          "charDurationsMs": [round(step)] * len(chars)}
                await connection.send(json.dumps(reply))
                sent_audio[0] += 1
                if self.disconnect_after_audio and sent_audio[0] >= self.disconnect_after_audio:
                    await connection.close(1011, "internal error")
                    return

    def _speak(self, text: str, output_format: str) -> list[tuple[str, float]]:
        """The sentence as ~200 ms audio messages: (base64 audio, duration in ms). The same text always sounds the
        same, so a clause voiced before (a bench's many calls hear the same answers) is sent from memory: the
        emulator then costs this machine little, as the vendor's compute would not be on it. The first audio is
        due `first_audio_ms` after the text either way."""
        key = (text, output_format)
        with self._voiced_lock:
            if key in self._voiced:
                self._voiced.move_to_end(key)
                return self._voiced[key]
        chunks = self._synthesize(text, output_format)
        with self._voiced_lock:
            self.syntheses += 1
            self._voiced[key] = chunks
            while len(self._voiced) > REMEMBERED_CLAUSES:
                self._voiced.popitem(last=False)
        return chunks

    def _synthesize(self, text: str, output_format: str) -> list[tuple[str, float]]:
        chunks = []
        kind, _, rate_text = output_format.partition("_")
        rate = int(rate_text or 16000)
        for audio, source_rate in self.speech_models.synthesize(text):
            pcm = np.frombuffer(audio, dtype=np.int16)
            pcm = soxr.resample(pcm, source_rate, rate).astype(np.int16).tobytes()
            data = audioop.lin2ulaw(pcm, 2) if kind == "ulaw" else pcm
            width = 1 if kind == "ulaw" else 2
            step = rate // 5 * width  # ~200 ms per message
            chunks.extend((base64.b64encode(data[i:i + step]).decode(), 1000 * len(data[i:i + step]) / width / rate)
                          for i in range(0, len(data), step))
        return chunks


def _share_chars(sentence: str, messages: int) -> list[list[str]]:
    """Split a sentence's characters over its audio messages in order, each message its even share."""
    if messages <= 0:
        return []
    return [list(sentence[len(sentence) * k // messages: len(sentence) * (k + 1) // messages]) for k in range(messages)]


async def start(emulator: ElevenLabsEmulator, host: str = "127.0.0.1"):
    """Serve on a free loopback port; returns (server, base URL as Pipecat's `url` parameter wants it)."""
    server = await serve(emulator.handler, host, 0, process_request=emulator.process_request)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://{host}:{port}"
