"""Hand the caller to a human: a support ticket always, a live transfer when one is configured."""

from __future__ import annotations

import asyncio
import json

from loguru import logger

from voiceagent.shared.phrases import CALLBACK_AT, CALLBACK_SOON, ESCALATION_OPENING, TICKET_OPENED, TRANSFER_MESSAGE
from voiceagent.shared.redact import names_introduced, redact_text
from voiceagent.storage import SupportTicket
from voiceagent.tools.context import ToolContext
from voiceagent.tools.phone import InvalidPhone, last_digits, normalize_phone


def _open_ticket(ctx: ToolContext, reason: str, callback: str | None) -> int:
    # The callback number has its own column (calling back is the ticket's point); the text keeps no name or number.
    said = ctx.transcript()
    names = set(ctx.personal_names()).union(*(names_introduced(entry.get("text", "")) for entry in said
                                               if entry.get("role") == "caller"))
    transcript = [{**entry, "text": redact_text(entry.get("text", ""), names)} for entry in said]
    with ctx.database.session() as session:
        ticket = SupportTicket(reason=redact_text(reason, names)[:500], callback_phone=callback,
                               call_sid=ctx.call_sid, transcript=json.dumps(transcript))
        session.add(ticket)
        session.flush()
        return ticket.id


def _mark_transferred(ctx: ToolContext, ticket_id: int) -> None:
    with ctx.database.session() as session:
        ticket = session.get(SupportTicket, ticket_id)
        if ticket:
            ticket.transferred = True


# The docstring is what the LLM reads about this tool (tools/schema.py). A ticket with the transcript so far is
# opened every time, so a failed transfer still leaves the caller a way back.
async def escalate_to_human(ctx: ToolContext, reason: str, callback: str | None = None) -> dict:
    """Hand the caller to a human specialist: when they ask for a person, are frustrated, or you cannot help.

    Opens a support ticket and transfers the call when possible.

    Args:
        reason: Why the caller needs a human, in a few words
        callback: Callback number if different from the caller's
    """
    try:
        number = normalize_phone(callback) if callback else normalize_phone(ctx.caller_phone or "")
    except InvalidPhone:
        number = None
    ticket_id = await asyncio.to_thread(_open_ticket, ctx, reason or "caller asked for a human", number)
    if ctx.on_escalated:
        ctx.on_escalated()
    if ctx.transfer_number and ctx.transfer_call:
        try:
            transferred = await ctx.transfer_call(ctx.transfer_number)
        except Exception as error:  # the ticket stands; the caller hears the callback promise instead
            logger.warning(f"Transfer failed: {type(error).__name__}")
            transferred = False
        if transferred:
            await asyncio.to_thread(_mark_transferred, ctx, ticket_id)
            return {"ok": True, "transferred": True, "ticket_id": ticket_id, "message": TRANSFER_MESSAGE}
    callback_text = CALLBACK_AT.format(digits=" ".join(last_digits(number))) if number else CALLBACK_SOON
    follow_up = f"{TICKET_OPENED} {callback_text}"
    # `follow_up` is what a caller who already heard an apology still needs to hear (the ticket, the callback).
    return {"ok": True, "transferred": False, "ticket_id": ticket_id, "follow_up": follow_up,
            "message": f"{ESCALATION_OPENING} {follow_up}"}
