"""The console's recording player: a call's decrypted WAV, sent only to an authorised console user.

Recordings are encrypted at rest under DATA_DIR/recordings by storage/recordings.py; the file is decrypted in
memory for the answer (AES-GCM authenticates the whole file before any of it is returned) and never cached.
"""

from __future__ import annotations

import asyncio

from fastapi.responses import PlainTextResponse, Response
from loguru import logger

from voiceagent.storage.recordings import RecordingError, RecordingStore, safe_name


def recordings_available(settings, call_sid: str) -> bool:
    """Whether the call has a recording file (the player is shown; the keys decide whether it plays)."""
    if safe_name(call_sid) != call_sid:
        return False
    try:
        return RecordingStore.from_settings(settings).path_for(call_sid).is_file()
    except (OSError, ValueError):
        return False


async def recording_response(settings, call_sid: str) -> Response:
    """The decrypted WAV of the call (audio/wav), 404 without one, 503 when the configured keys cannot open it."""
    if not recordings_available(settings, call_sid):
        return PlainTextResponse("No recording for this call.", status_code=404)
    try:
        wav = await asyncio.to_thread(RecordingStore.from_settings(settings).read, call_sid)
    except (RecordingError, ValueError) as error:
        # The reason names key ids and the folder, never a key: the operator needs it to fix the keys.
        logger.warning(f"Recording of a call could not be opened for the console: {error}")
        return PlainTextResponse(f"The recording cannot be opened: {error}", status_code=503)
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "no-store",
                                                          "Content-Disposition": "inline"})
