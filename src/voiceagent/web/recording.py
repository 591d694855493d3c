"""The console's recording player: the call's decrypted WAV, streamed to an authorised console user.

SEAM: encrypted recordings under DATA_DIR/recordings come from storage/recordings.py, which another change is
writing. Until it is there, no call has a recording, the player is not shown and the route answers 404; once
it lands, these two functions read and decrypt through it (the route already checks console access).
"""

from __future__ import annotations

from fastapi.responses import Response


def recordings_available(settings, call_sid: str) -> bool:
    """Whether the call has a recording the console may play."""
    return False


async def recording_response(settings, call_sid: str) -> Response:
    """The decrypted WAV of the call (audio/wav), or 404."""
    return Response("No recording for this call.", status_code=404)
