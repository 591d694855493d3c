"""Twilio Media Streams: the opening handshake and the serializer for the rest of the stream."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.audio.utils import create_stream_resampler, ulaw_to_pcm
from pipecat.frames.frames import Frame, InputAudioRawFrame, InputDTMFFrame
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.serializers.twilio import TwilioFrameSerializer

from voiceagent.shared.audio_level import frame_rms
from voiceagent.shared.frames import PlaybackMarkEchoFrame, PlaybackMarkFrame
from voiceagent.shared.redact import redact_text

PHONE_RATE = 8000  # Media Streams carry 8 kHz mu-law (any other format is refused at `start`)
# Caller audio below this RMS level (16-bit PCM, about -56 dBFS) is a quiet line: the VAD cannot call it speech (its
# min_volume is near -50 LUFS), so after QUIET_AFTER_MS of it the audio may enter the pipeline in longer chunks.
QUIET_LEVEL = 50.0
QUIET_AFTER_MS = 2000  # past every turn-end wait (VAD stop and the turn model's longest wait)
# Twilio sends 20 ms (160-byte) frames; anything far larger is not a media stream.
MAX_MESSAGE_CHARS = 64 * 1024


class StreamProtocolError(Exception):
    """The peer broke the Media Streams protocol badly enough to end the stream."""

    def __init__(self, message: str, close_code: int = 1008):
        super().__init__(message)
        self.close_code = close_code


@dataclass
class StreamStart:
    """What the `start` message tells about the call."""

    stream_sid: str
    call_sid: str | None
    account_sid: str | None
    custom_parameters: dict[str, str] = field(default_factory=dict)
    media_format: dict[str, Any] = field(default_factory=dict)

    @property
    def caller(self) -> str | None:
        return self.custom_parameters.get("caller") or self.custom_parameters.get("From")


def parse_message(raw: str | bytes) -> dict[str, Any] | None:
    """Decode one stream message; None (with a redacted log line) when it is not valid JSON."""
    if len(raw) > MAX_MESSAGE_CHARS:
        logger.warning(f"Media stream: ignored an oversized message ({len(raw)} bytes)")
        return None
    try:
        message = json.loads(raw)
    # ValueError also covers an integer too long to convert; RecursionError, arrays nested thousands deep.
    except (ValueError, RecursionError):
        logger.warning(f"Media stream: ignored a message that is not JSON: {redact_text(str(raw)[:80])!r}")
        return None
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        logger.warning("Media stream: ignored a message without an event name")
        return None
    return message


def parse_start(message: dict[str, Any]) -> StreamStart:
    """Read the `start` message; raises StreamProtocolError when it lacks a streamSid."""
    start = message.get("start")
    if not isinstance(start, dict):
        start = {}
    stream_sid = start.get("streamSid") or message.get("streamSid")
    if not isinstance(stream_sid, str) or not stream_sid:
        raise StreamProtocolError("start message without streamSid")
    params = start.get("customParameters")
    params = {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}
    media_format = start.get("mediaFormat") if isinstance(start.get("mediaFormat"), dict) else {}
    encoding = media_format.get("encoding", "audio/x-mulaw")
    if encoding != "audio/x-mulaw" or _sample_rate(media_format) != PHONE_RATE:
        # ascii(): the text becomes a close reason, which must stay within 123 bytes
        raise StreamProtocolError(f"unsupported media format {ascii(encoding)[:40]}", close_code=1003)
    return StreamStart(
        stream_sid=stream_sid,
        call_sid=_text_or_none(start.get("callSid")),
        account_sid=_text_or_none(start.get("accountSid")),
        custom_parameters=params,
        media_format=media_format,
    )


def _sample_rate(media_format: dict[str, Any]) -> int | None:
    try:
        return int(media_format.get("sampleRate", PHONE_RATE))
    except (TypeError, ValueError, OverflowError):
        return None


def _text_or_none(value: Any) -> str | None:
    """A SID must be text: anything else would end up as a slot key or a database column."""
    return value if isinstance(value, str) and value else None


async def read_stream_start(receive_text: Callable[[], Awaitable[str | bytes | None]], max_messages: int = 200) -> StreamStart:
    """Consume messages up to and including `start`; anything before it is logged and dropped."""
    for _ in range(max_messages):
        raw = await receive_text()
        if raw is None:
            raise StreamProtocolError("socket closed before start", close_code=1000)
        message = parse_message(raw)
        if message is None:
            continue
        event = message["event"]
        if event == "start":
            return parse_start(message)
        if event == "stop":
            raise StreamProtocolError("stream stopped before start", close_code=1000)
        if event != "connected":
            logger.warning(f"Media stream: ignored '{event[:32]}' before start")
    raise StreamProtocolError("no start message")


class MediaStreamSerializer(TwilioFrameSerializer):
    """Twilio's serializer, completed: marks both ways, `stop`, and tolerance of bad input."""

    def __init__(self, start: StreamStart, *, on_stop: Callable[[], Awaitable[None]] | None = None,
                 inbound_chunk_ms: int = 20, quiet_chunk_ms: int = 0, **kwargs):
        super().__init__(stream_sid=start.stream_sid, call_sid=start.call_sid, account_sid=start.account_sid, **kwargs)
        self._stream = start.stream_sid
        self._on_stop = on_stop
        # Twilio's 20 ms frames are handed on `inbound_chunk_ms` at a time: each frame costs every processor of
        # the call (and the VAD's thread hop, the STT socket) the same whatever its length. Once the line has been
        # quiet for two seconds (most of a call: the caller listens while the agent speaks), `quiet_chunk_ms` at a
        # time; the first louder frame goes on at once, with the quiet audio before it.
        self._inbound_chunk_ms = inbound_chunk_ms
        self._quiet_chunk_ms = quiet_chunk_ms
        self._quiet_ms = 0
        self._inbound = bytearray()
        self._pipeline_rate = PHONE_RATE  # set from the pipeline at setup
        self._resampler = create_stream_resampler()
        self.ignored_messages = 0
        self.stopped = False

    @classmethod
    def for_call(cls, start: StreamStart, settings, *, on_stop=None) -> MediaStreamSerializer:
        """Hang up through Twilio's REST API at the end only when Twilio credentials are configured."""
        chunks = {"inbound_chunk_ms": settings.pipeline_inbound_chunk_ms,
                  "quiet_chunk_ms": settings.pipeline_quiet_chunk_ms}
        if settings.twilio_account_sid and settings.twilio_auth_token:
            return cls(start, on_stop=on_stop, **chunks, auth_token=settings.twilio_auth_token.get_secret_value(),
                       base_url=settings.twilio_api_base_url, params=cls.InputParams(auto_hang_up=True))
        return cls(start, on_stop=on_stop, **chunks, params=cls.InputParams(auto_hang_up=False))

    async def setup(self, setup: FrameProcessorSetup):
        await super().setup(setup)
        self._pipeline_rate = setup.audio_in_sample_rate

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, PlaybackMarkFrame):
            return json.dumps({"event": "mark", "streamSid": self._stream, "mark": {"name": frame.mark}})
        return await super().serialize(frame)

    async def deserialize(self, data: str | bytes) -> Frame | None:
        message = parse_message(data)
        if message is None:
            self.ignored_messages += 1
            return None
        event = message["event"]
        if event == "media":
            return await self._media(message)
        if event == "dtmf":
            dtmf = message.get("dtmf")
            try:
                return InputDTMFFrame(KeypadEntry(str(dtmf.get("digit"))))
            except (AttributeError, ValueError):
                logger.warning("Media stream: ignored a dtmf message without a valid digit")
                return None
        if event == "mark":
            mark = message.get("mark")
            name = mark.get("name") if isinstance(mark, dict) else None
            if isinstance(name, str):
                return PlaybackMarkEchoFrame(mark=name)
        elif event == "stop":
            self.stopped = True
            if self._on_stop:
                await self._on_stop()
            return None
        elif event in ("start", "connected"):
            logger.warning(f"Media stream: ignored a repeated '{event}'")
        else:
            logger.warning(f"Media stream: ignored unknown event '{event[:32]}'")
        self.ignored_messages += 1
        return None

    async def _media(self, message: dict[str, Any]) -> Frame | None:
        media = message.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        if isinstance(media, dict) and media.get("track") not in (None, "inbound", "inbound_track"):
            return None
        try:
            if not isinstance(payload, str) or not payload:
                raise ValueError("no payload")
            audio = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            self.ignored_messages += 1
            logger.warning("Media stream: ignored a media message with a bad payload")
            return None
        pcm = await ulaw_to_pcm(audio, PHONE_RATE, self._pipeline_rate, self._resampler)
        if not pcm:
            return None
        self._inbound += pcm
        chunk_ms = self._inbound_chunk_ms
        if self._quiet_chunk_ms:
            quiet = frame_rms(pcm) < QUIET_LEVEL
            self._quiet_ms = self._quiet_ms + len(pcm) * 1000 // (2 * self._pipeline_rate) if quiet else 0
            if self._quiet_ms >= QUIET_AFTER_MS:
                chunk_ms = self._quiet_chunk_ms
        if len(self._inbound) < self._pipeline_rate * 2 * chunk_ms // 1000:
            return None
        chunk, self._inbound = bytes(self._inbound), bytearray()
        return InputAudioRawFrame(audio=chunk, num_channels=1, sample_rate=self._pipeline_rate)
