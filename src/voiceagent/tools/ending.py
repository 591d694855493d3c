"""Ending the call: the LLM's way to hang up once it has said goodbye (the offline engine marks its closing line)."""

from __future__ import annotations

from voiceagent.tools.context import ToolContext


# The docstring is what the LLM reads about this tool (tools/schema.py). The hang-up itself waits until the caller
# has heard the closing line and stayed silent (call/playback.py); a caller who speaks first keeps the call going.
async def end_call(ctx: ToolContext) -> dict:
    """End the phone call. Use it when the caller says goodbye or has nothing else: say your closing line first
    (thank them and say goodbye), then call this. Never use it while the caller still needs something."""
    if ctx.on_end_call is None:
        return {"ok": False, "error": "unavailable", "message": "The call can't be ended from here."}
    ctx.on_end_call()
    return {"ok": True, "ending": True, "message": ""}
