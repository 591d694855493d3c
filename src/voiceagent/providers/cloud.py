"""The plan's cloud providers through Pipecat's services: Deepgram, Claude (or any OpenAI-compatible LLM), ElevenLabs."""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx2
import numpy as np
from anthropic import AsyncAnthropic, DefaultAsyncHttpxClient
from loguru import logger
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.frames.frames import (
    Frame,
    StartFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.anthropic.llm import AnthropicLLMService
from pipecat.services.deepgram.stt import DeepgramSTTService
from pipecat.services.llm_service import FunctionCallParams, LLMService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService

from voiceagent.config import Settings
from voiceagent.providers.audio_cache import AudioCache
from voiceagent.tools import TOOLS


ToolRunner = Callable[[str, dict], Awaitable[dict]]
DEEPGRAM_FINAL_P99_SECS = 0.35  # Pipecat's measured p99 from Deepgram's Finalize to the final transcript
SPEECH_RMS = 200.0  # 16-bit RMS above which a chunk of phone audio holds speech


def _phone_rate(settings: Settings) -> int | None:
    """8 kHz end to end (the phone line's rate); None leaves Pipecat's defaults for the bench's stock profile."""
    return None if settings.pipeline_profile == "stock" else 8000


def tools_schema() -> ToolsSchema:
    """The same tool registry the offline engine uses, as Pipecat function schemas."""
    return ToolsSchema(standard_tools=[
        FunctionSchema(name=spec.name, description=spec.description,
                       properties=spec.parameters["properties"], required=spec.parameters["required"])
        for spec in TOOLS
    ])


# One HTTP client per event loop and LLM endpoint, shared by every call of the process: its connections stay
# open between turns and between calls (httpx would drop an idle one after 5 s, and a phone turn is longer),
# so a request does not pay a new TCP + TLS handshake. Keyed by loop: a client must not cross event loops.
_LLM_HTTP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, object]] = weakref.WeakKeyDictionary()


LLM_KEEPALIVE_SECS = 60.0  # idle LLM connections are kept this long (servers keep theirs 60-120 s)


def _shared_llm_client(key: tuple, http_class: type[httpx2.AsyncClient], build: Callable[[httpx2.AsyncClient], object]
                       ) -> tuple[object, httpx2.AsyncClient]:
    """(SDK client, its HTTP client) for this loop and endpoint, built on first use. The HTTP client is the
    SDK's own default (TCP keep-alive probes, timeouts) with a longer idle limit."""
    clients = _LLM_HTTP.setdefault(asyncio.get_running_loop(), {})
    if key not in clients:
        http = http_class(limits=httpx2.Limits(
            max_connections=1000, max_keepalive_connections=100, keepalive_expiry=LLM_KEEPALIVE_SECS))
        clients[key] = (build(http), http)
    return clients[key]


async def warm_connection(http: httpx2.AsyncClient, url: str) -> None:
    """Open (or refresh) a connection to the LLM endpoint while the caller listens to the greeting, so the
    first answer does not wait for a handshake. Any answer will do; failures are left to the real request."""
    try:
        await http.head(url, timeout=3.0)
    except httpx2.HTTPError:
        pass


class _WarmsItsConnection:
    """For an LLM service on a shared SDK client (`self._client`, its HTTP client `self._http`): warms the
    connection when the call starts."""

    _http: httpx2.AsyncClient

    async def start(self, frame: StartFrame):
        await super().start(frame)
        self.create_task(warm_connection(self._http, str(self._client.base_url)), name="llm-warm-connection")


class _WarmingAnthropicLLMService(_WarmsItsConnection, AnthropicLLMService):
    def __init__(self, *, http: httpx2.AsyncClient, **kwargs):
        super().__init__(**kwargs)
        self._http = http


def make_anthropic_llm(settings: Settings, call_tool: ToolRunner) -> LLMService:
    secret = settings.anthropic_api_key.get_secret_value()
    client, http = _shared_llm_client(
        ("anthropic", settings.anthropic_base_url, secret, settings.llm_timeout_secs, settings.llm_max_retries),
        DefaultAsyncHttpxClient,
        lambda http: AsyncAnthropic(api_key=secret, base_url=settings.anthropic_base_url, http_client=http,
                                    timeout=settings.llm_timeout_secs, max_retries=settings.llm_max_retries),
    )
    llm = _WarmingAnthropicLLMService(
        http=http,
        api_key=secret,
        client=client,
        settings=AnthropicLLMService.Settings(model=settings.anthropic_model, max_tokens=300,
                                              enable_prompt_caching=True),
    )
    register_tools(llm, call_tool)
    return llm


def make_openai_compatible_llm(settings: Settings, call_tool: ToolRunner) -> LLMService:
    """Any OpenAI-compatible chat-completions server (vLLM, llama.cpp's server, Ollama) by base URL."""
    from openai import AsyncOpenAI
    from openai import DefaultAsyncHttpxClient as OpenAIHttpClient
    from pipecat.services.openai.llm import OpenAILLMService

    class _OpenAICompatibleLLM(_WarmsItsConnection, OpenAILLMService):
        def create_client(self, api_key=None, base_url=None, **kwargs):
            # The same resilience as the Anthropic path: a whole-request timeout and SDK retries; one client
            # per process with kept-alive connections, warmed at call start.
            client, self._http = _shared_llm_client(
                ("openai", base_url, api_key, settings.llm_timeout_secs, settings.llm_max_retries),
                OpenAIHttpClient,
                lambda http: AsyncOpenAI(api_key=api_key, base_url=base_url, http_client=http,
                                         timeout=settings.llm_timeout_secs, max_retries=settings.llm_max_retries),
            )
            return client

    key = settings.openai_llm_api_key or settings.openai_api_key
    llm = _OpenAICompatibleLLM(
        api_key=key.get_secret_value() if key else "not-needed",
        base_url=settings.openai_llm_base_url or settings.openai_base_url,
        settings=OpenAILLMService.Settings(model=settings.openai_llm_model, max_tokens=300),
    )
    register_tools(llm, call_tool)
    return llm


def _from_speech_onset(chunks: list[bytes], sample_rate: int, lead_in_secs: float = 0.5) -> list[bytes]:
    """The chunks from just before the first one with speech in it: replaying the silence before is waste."""
    def loud(chunk: bytes) -> bool:
        samples = np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype=np.int16).astype(np.float32)
        return bool(len(samples)) and float(np.sqrt(np.mean(samples**2))) > SPEECH_RMS

    first = next((i for i, chunk in enumerate(chunks) if loud(chunk)), len(chunks))
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
    # ended (0.35 s, measured with VAD stop_secs 0.2). With our longer VAD stop that budget is spent before VAD
    # even reports the stop, and a final that lands a moment later (say the word after a comma) starts a
    # turn of its own that talks over the real answer. The budget is counted from the end of speech, so it
    # must include the VAD stop; a finalized transcript still releases the turn as soon as it arrives.
    return ResilientDeepgramSTTService(
        ttfs_p99_latency=settings.turn_stop_secs + DEEPGRAM_FINAL_P99_SECS,
        endpoint_ends_transcript=settings.pipeline_profile != "stock",
        api_key=settings.deepgram_api_key.get_secret_value(),
        base_url=settings.deepgram_base_url or "",
        encoding="linear16",
        sample_rate=_phone_rate(settings),
        settings=DeepgramSTTService.Settings(
            model=settings.deepgram_model, interim_results=True, endpointing=300, utterance_end_ms=1000,
            smart_format=True, punctuate=True,
        ),
    )


PHRASE_CHUNK_SECS = 0.1  # cached phrase audio is replayed in chunks of this length, as ElevenLabs sends it


@dataclass
class _PhraseRecording:
    """A fixed phrase being spoken for the first time: its audio and word times, kept once it plays out."""

    key: tuple
    audio: list[bytes] = field(default_factory=list)
    words: list[tuple[str, float]] = field(default_factory=list)


def make_elevenlabs_tts(settings: Settings, text_transforms, phrase_cache: AudioCache | None = None) -> TTSService:
    """ElevenLabs multi-stream-input over WebSocket, turbo v2.5, voice "Rachel", 8 kHz for the phone line.

    Fixed phrases (the greeting, "didn't catch that", the trouble and hand-off lines: whatever is spoken with a
    TTSSpeakFrame) are synthesized once per process: the audio and word times ElevenLabs sends for the first
    call are kept in `phrase_cache`, keyed by voice, model, rate and text, and replayed for every later call
    with no round trip (and no characters billed). Replies written by the LLM always go to ElevenLabs."""
    from pipecat.services.elevenlabs.tts import ElevenLabsTTSService

    class _ElevenLabsTTS(ElevenLabsTTSService):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._speaking_fixed_phrase = False
            self._recordings: dict[str, _PhraseRecording] = {}
            self._replayed: set[str] = set()  # contexts ElevenLabs never saw: nothing to close there

        async def _reconnect_websocket(self, attempt_number: int) -> bool:
            # Pipecat reconnects silently, but a socket lost mid-reply has cost the caller the rest of the
            # reply: report it, so the call's voice can fail over instead of losing the next reply too.
            if attempt_number == 1 and self.get_active_audio_context_id() is not None:
                await self.push_error("ElevenLabs dropped the connection mid-reply")
            return await super()._reconnect_websocket(attempt_number)

        def _phrase_key(self, text: str) -> tuple:
            return ("elevenlabs", self._settings.voice, self._settings.model, self.sample_rate, text.strip())

        async def _handle_tts_speak(self, frame):
            self._speaking_fixed_phrase = phrase_cache is not None
            try:
                await super()._handle_tts_speak(frame)
            finally:
                self._speaking_fixed_phrase = False

        async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
            fixed, key = self._speaking_fixed_phrase, self._phrase_key(text)
            cached = phrase_cache.get(key) if fixed and not self.audio_context_available(context_id) else None
            if cached is None:
                self._recordings.pop(context_id, None)  # a context of more than one phrase is not kept
                if fixed and not self.audio_context_available(context_id):
                    self._recordings[context_id] = _PhraseRecording(key)
                async for frame in super().run_tts(text, context_id):
                    yield frame
                return
            audio, words = cached
            self._replayed.add(context_id)
            await self.create_audio_context(context_id)
            yield TTSStartedFrame(context_id=context_id)
            if words:
                await self.add_word_timestamps(words, context_id)
            step = int(self.sample_rate * PHRASE_CHUNK_SECS) * 2
            for start in range(0, len(audio), step):
                yield TTSAudioRawFrame(audio[start:start + step], self.sample_rate, 1, context_id=context_id)
            if not self._push_stop_frames:  # (ElevenLabs' isFinal would have ended it)
                yield TTSStoppedFrame(context_id=context_id)
            # Yielding the audio (no None) makes Pipecat close the context once the phrase is queued.

        async def append_to_audio_context(self, context_id: str, frame):
            recording = self._recordings.get(context_id)
            if recording is not None:
                if isinstance(frame, TTSAudioRawFrame):
                    recording.audio.append(frame.audio)
                elif isinstance(frame, TTSStoppedFrame):  # ElevenLabs' isFinal: the whole phrase is here
                    del self._recordings[context_id]
                    audio = b"".join(recording.audio)
                    if audio:
                        phrase_cache.put(recording.key, (audio, recording.words), len(audio))
            await super().append_to_audio_context(context_id, frame)

        async def add_word_timestamps(self, word_times, context_id=None, *args, **kwargs):
            recording = self._recordings.get(context_id)
            if recording is not None:
                recording.words.extend(word_times)
            await super().add_word_timestamps(word_times, context_id, *args, **kwargs)

        async def on_audio_context_interrupted(self, context_id: str):
            self._recordings.pop(context_id, None)  # cut off: not the whole phrase
            await super().on_audio_context_interrupted(context_id)

        async def flush_audio(self, context_id: str | None = None):
            if context_id not in self._replayed:
                await super().flush_audio(context_id)

        async def _close_context(self, context_id: str):
            if context_id not in self._replayed:
                await super()._close_context(context_id)

    return _ElevenLabsTTS(
        api_key=settings.elevenlabs_api_key.get_secret_value(),
        url=settings.elevenlabs_base_url or "wss://api.elevenlabs.io",
        sample_rate=_phone_rate(settings),
        settings=ElevenLabsTTSService.Settings(voice=settings.elevenlabs_voice_id, model=settings.elevenlabs_model),
        text_transforms=text_transforms,
    )


def register_tools(llm: LLMService, call_tool: ToolRunner) -> None:
    """Each tool call runs through the validating runner; a call from an interrupted reply is cancelled."""
    for spec in TOOLS:
        async def handler(params: FunctionCallParams, name: str = spec.name) -> None:
            result = await call_tool(name, dict(params.arguments or {}))
            await params.result_callback(result)

        llm.register_function(spec.name, handler, cancel_on_interruption=True)
