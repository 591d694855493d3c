"""Twilio's 20 ms caller frames enter the pipeline INBOUND_CHUNK_MS at a time, in order, nothing lost or added."""

from __future__ import annotations

import base64
import json

import numpy as np
from pipecat.frames.frames import InputAudioRawFrame

from tests.conftest import make_settings
from voiceagent.simulate.audio import mulaw_decode, mulaw_encode
from voiceagent.telephony.media_stream import QUIET_AFTER_MS, MediaStreamSerializer, StreamStart


def media(payload: bytes, chunk: int) -> str:
    return json.dumps({"event": "media", "streamSid": "MZ1", "sequenceNumber": str(chunk + 2),
                       "media": {"track": "inbound", "chunk": str(chunk), "timestamp": str(20 * chunk),
                                 "payload": base64.b64encode(payload).decode()}})


async def frames_for(serializer: MediaStreamSerializer, frames: list[bytes]) -> list[InputAudioRawFrame]:
    out = []
    for index, payload in enumerate(frames):
        frame = await serializer.deserialize(media(payload, index + 1))
        if frame is not None:
            out.append(frame)
    return out


async def test_caller_frames_are_joined_into_chunks_in_order(tmp_path):
    speech = (np.sin(np.arange(160 * 7) / 3.0) * 6000).astype(np.int16)
    frames = [mulaw_encode(speech[i:i + 160]) for i in range(0, len(speech), 160)]
    serializer = MediaStreamSerializer.for_call(StreamStart(stream_sid="MZ1", call_sid="CA1", account_sid=None),
                                                make_settings(tmp_path, inbound_chunk_ms=60))
    chunks = await frames_for(serializer, frames)
    assert [len(chunk.audio) for chunk in chunks] == [960, 960]  # 60 ms at 8 kHz, 16-bit; the 7th frame waits
    joined = np.frombuffer(b"".join(chunk.audio for chunk in chunks), dtype=np.int16)
    assert np.array_equal(joined, np.concatenate([mulaw_decode(frame) for frame in frames[:6]]))
    assert all(chunk.sample_rate == 8000 and chunk.num_channels == 1 for chunk in chunks)


async def test_twenty_ms_chunks_and_the_stock_profile_pass_each_frame_on(tmp_path):
    frames = [mulaw_encode(np.full(160, 1000 * n, dtype=np.int16)) for n in range(3)]
    for settings in (make_settings(tmp_path, inbound_chunk_ms=20),
                     make_settings(tmp_path, inbound_chunk_ms=80, pipeline_profile="stock")):
        serializer = MediaStreamSerializer.for_call(StreamStart(stream_sid="MZ1", call_sid="CA1", account_sid=None),
                                                    settings)
        chunks = await frames_for(serializer, frames)
        assert len(chunks) == 3


def quiet_line_then_speech() -> tuple[list[bytes], np.ndarray]:
    """3 s of a quiet line (faint hiss), then 200 ms of speech-loud audio, as Twilio's 20 ms mu-law frames."""
    rng = np.random.default_rng(5)
    audio = np.concatenate([rng.normal(0, 8, 24000), np.sin(np.arange(1600) / 3.0) * 6000]).astype(np.int16)
    return [mulaw_encode(audio[i:i + 160]) for i in range(0, len(audio), 160)], audio


async def test_a_quiet_line_enters_in_long_chunks_and_the_first_loud_frame_goes_on_at_once(tmp_path):
    frames, _ = quiet_line_then_speech()
    serializer = MediaStreamSerializer.for_call(StreamStart(stream_sid="MZ1", call_sid="CA1", account_sid=None),
                                                make_settings(tmp_path, inbound_chunk_ms=40, quiet_chunk_ms=200))
    sizes, arrived_with = [], []
    for index, payload in enumerate(frames):
        frame = await serializer.deserialize(media(payload, index + 1))
        if frame is not None:
            sizes.append(len(frame.audio) // 16)  # ms at 8 kHz, 16-bit
            arrived_with.append(index)
    first_loud = 150  # frame 151 is the first of the speech
    quiet_sizes = [size for size, index in zip(sizes, arrived_with, strict=True) if index < first_loud]
    usual = QUIET_AFTER_MS // 40 - 1  # the chunk that reaches QUIET_AFTER_MS waits to be a long one
    assert quiet_sizes[:usual] == [40] * usual
    assert set(quiet_sizes[usual:]) == {200} and len(quiet_sizes) > usual  # then five chunks a second, not 25
    assert first_loud in arrived_with  # the first loud frame was passed on with no wait
    after = [size for size, index in zip(sizes, arrived_with, strict=True) if index > first_loud]
    assert after and set(after) == {40}  # and speech goes on at the usual size


async def test_quiet_chunks_lose_and_reorder_nothing(tmp_path):
    frames, _ = quiet_line_then_speech()
    serializer = MediaStreamSerializer.for_call(StreamStart(stream_sid="MZ1", call_sid="CA1", account_sid=None),
                                                make_settings(tmp_path, inbound_chunk_ms=40, quiet_chunk_ms=200))
    chunks = await frames_for(serializer, frames)
    joined = np.frombuffer(b"".join(chunk.audio for chunk in chunks), dtype=np.int16)
    assert len(joined) >= len(frames) * 160 - 160  # at most the last 20 ms frame waits for the next
    assert np.array_equal(joined, np.concatenate([mulaw_decode(frame) for frame in frames])[:len(joined)])


async def test_a_line_never_quiet_and_the_stock_profile_keep_the_usual_chunks(tmp_path):
    frames, _ = quiet_line_then_speech()
    loud = [mulaw_encode((np.sin(np.arange(160) / 3.0) * 600).astype(np.int16))] * 100  # hum above the quiet level
    for settings, audio in ((make_settings(tmp_path, inbound_chunk_ms=40, quiet_chunk_ms=200), loud),
                            (make_settings(tmp_path, pipeline_profile="stock", quiet_chunk_ms=200), frames)):
        serializer = MediaStreamSerializer.for_call(StreamStart(stream_sid="MZ1", call_sid="CA1", account_sid=None),
                                                    settings)
        chunks = await frames_for(serializer, audio)
        assert len({len(chunk.audio) for chunk in chunks}) == 1
