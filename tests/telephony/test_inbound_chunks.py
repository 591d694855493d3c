"""Twilio's 20 ms caller frames enter the pipeline INBOUND_CHUNK_MS at a time, in order, nothing lost or added."""

from __future__ import annotations

import base64
import json

import numpy as np
from pipecat.frames.frames import InputAudioRawFrame

from tests.conftest import make_settings
from voiceagent.simulate.audio import mulaw_decode, mulaw_encode
from voiceagent.telephony.media_stream import MediaStreamSerializer, StreamStart


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
