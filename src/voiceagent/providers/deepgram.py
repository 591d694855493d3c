"""Deepgram live STT through Pipecat's service: 8 kHz from the phone line, keeping the caller's words when the
socket drops."""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import AsyncGenerator

from loguru import logger
from pipecat.frames.frames import Frame, TranscriptionFrame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.deepgram.stt import DeepgramSTTService
from pipecat.services.stt_service import STTService

from voiceagent.config import Settings
from voiceagent.shared.audio_level import frame_rms

SPEECH_RMS = 200.0  # 16-bit RMS above which a chunk of phone audio holds speech (the quiet line of audio_level)


def _from_speech_onset(chunks: list[bytes], sample_rate: int, lead_in_secs: float = 0.5) -> list[bytes]:
    """The chunks from just before the first one with speech in it: replaying the silence before is waste."""
    first = next((i for i, chunk in enumerate(chunks) if frame_rms(chunk[: len(chunk) // 2 * 2]) > SPEECH_RMS),
                 len(chunks))
    lead_in, start = 0, first
    while start > 0 and lead_in < lead_in_secs * 2 * sample_rate:
        start -= 1
        lead_in += len(chunks[start])
    return chunks[start:]


class ResilientDeepgramSTTService(DeepgramSTTService):
    """Deepgram that keeps the caller's words when the socket drops.

    Pipecat's service reconnects after a 4-10 s back-off and drops the audio that arrives meanwhile, and the
    words Deepgram had heard but not finalised die with the old socket. Here, audio not yet covered by a final
    result is kept (up to `MAX_UNCONFIRMED_SECS`), a new socket is opened at once, and the kept audio is
    replayed on it before live audio continues.
    """

    MAX_UNCONFIRMED_SECS = 15.0

    def __init__(self, *, endpoint_ends_transcript: bool = True, **kwargs):
        super().__init__(**kwargs)
        # Deepgram's `speech_final` means its endpointer heard the speech end: the transcript is complete, as
        # much as a Finalize answer would be. Pipecat marks only Finalize answers final, so when the endpointed
        # result comes first (Deepgram's 300 ms endpointing often beats the VAD stop and the Finalize it sends),
        # the answer to the Finalize is empty and the turn waits out the STT's p99 budget (0.35 s after the VAD
        # stop). Off in the bench's stock profile, which keeps Pipecat's behaviour.
        self._endpoint_ends_transcript = endpoint_ends_transcript
        self._speech_final = False
        self._unconfirmed: deque[tuple[float, bytes]] = deque()  # (end offset on the socket, audio)
        self._unconfirmed_bytes = 0
        self._socket = None  # the connection the offsets refer to
        self._sent_secs = 0.0
        self._reopening: asyncio.Task | None = None
        self.reopened = 0

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        connection = self._connection
        if connection is None:
            self._keep(float("inf"), audio)
            self._reopen_soon()
        else:
            if connection is not self._socket:  # a new socket: first replay what the old one never finalised
                self._socket, self._sent_secs = connection, 0.0
                kept = _from_speech_onset([chunk for _, chunk in self._unconfirmed], self.sample_rate)
                self._unconfirmed.clear()
                self._unconfirmed_bytes = 0
                if kept:
                    logger.info(f"{self}: replaying {sum(map(len, kept)) / 2 / self.sample_rate:.1f} s of audio")
                for chunk in kept:
                    await self._send(connection, chunk)
            await self._send(connection, audio)
        yield None

    async def _send(self, connection, audio: bytes) -> None:
        self._sent_secs += len(audio) / 2 / self.sample_rate
        self._keep(self._sent_secs, audio)
        try:
            await connection.send_media(audio)
        except Exception as error:  # kept above, so it is replayed on the next socket
            logger.warning(f"{self}: sending audio failed ({type(error).__name__}); reconnecting")
            self._connection = None

    def _keep(self, end: float, audio: bytes) -> None:
        self._unconfirmed.append((end, audio))
        self._unconfirmed_bytes += len(audio)
        while self._unconfirmed and self._unconfirmed_bytes > self.MAX_UNCONFIRMED_SECS * 2 * self.sample_rate:
            self._unconfirmed_bytes -= len(self._unconfirmed.popleft()[1])

    def _reopen_soon(self) -> None:
        if self._reopening is None or self._reopening.done():
            self._reopening = self.create_task(self._reopen(), f"{self}::reopen")

    async def _reopen(self) -> None:
        if self._connection is not None:
            return
        self.reopened += 1
        try:
            await self._do_reconnect()  # cancels the back-off wait and connects now
        except ConnectionError as error:
            logger.error(f"{self}: {error}")

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        if isinstance(frame, TranscriptionFrame) and self._speech_final and self._endpoint_ends_transcript:
            frame.finalized = True
        await super().push_frame(frame, direction)

    async def _on_message(self, message):
        self._speech_final = bool(getattr(message, "is_final", False) and getattr(message, "speech_final", False))
        try:
            await super()._on_message(message)
        finally:
            self._speech_final = False
        if getattr(message, "type", None) == "Results" and message.is_final and self._connection is self._socket:
            confirmed = (message.start or 0.0) + (message.duration or 0.0) + 0.001
            while self._unconfirmed and self._unconfirmed[0][0] <= confirmed:
                self._unconfirmed_bytes -= len(self._unconfirmed.popleft()[1])

    async def cleanup(self):
        if self._reopening and not self._reopening.done():
            await self.cancel_task(self._reopening)
        await super().cleanup()


@functools.cache
def _uncompressed_deepgram_socket() -> None:
    """The Deepgram SDK's WebSocket asks for permessage-deflate; live audio hardly compresses, and deflating every
    20 ms chunk on the event loop cost 4% of the server's CPU at 10 calls at a time (py-spy). Connect without it.
    A process-wide patch of the SDK, applied once (cached), when the first Deepgram service is built."""
    from deepgram.listen.v1 import client, raw_client

    for module in (client, raw_client):  # each imports the connect function for itself
        connect = getattr(module, "websockets_client_connect", None)
        if connect is not None and not isinstance(connect, functools.partial):
            module.websockets_client_connect = functools.partial(connect, compression=None)


def make_deepgram_stt(settings: Settings) -> STTService:
    """Deepgram live STT (nova-2), 8 kHz from the phone line, interim results, endpointing, keep-alive."""
    _uncompressed_deepgram_socket()
    # Pipecat hands the STT 16-bit PCM decoded from Twilio's mu-law; sending it as linear16 at 8 kHz
    # carries exactly the same samples.
    # Pipecat releases a finished turn once Deepgram's p99 time-to-final-transcript has passed since speech
    # ended (0.35 s, measured with VAD stop_secs 0.2: STREAMING_STT_FINAL_SECS). With our longer VAD stop that budget is spent before VAD
    # even reports the stop, and a final that lands a moment later (say the word after a comma) starts a
    # turn of its own that talks over the real answer. The budget is counted from the end of speech, so it
    # must include the VAD stop; a finalized transcript still releases the turn as soon as it arrives.
    return ResilientDeepgramSTTService(
        ttfs_p99_latency=settings.turn_taking.stt_final_wait_secs,
        endpoint_ends_transcript=not settings.turn_taking.stock,
        api_key=settings.deepgram_api_key.get_secret_value(),
        base_url=settings.deepgram_base_url or "",
        encoding="linear16",
        sample_rate=settings.service_sample_rate,
        settings=DeepgramSTTService.Settings(
            model=settings.deepgram_model, interim_results=True, endpointing=300, utterance_end_ms=1000,
            smart_format=True, punctuate=True,
        ),
    )
