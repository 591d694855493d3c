"""Hand the caller to a human: a support ticket always, a live transfer when one is configured."""

from __future__ import annotations

import asyncio
import json

from loguru import logger
from sqlalchemy import select

from voiceagent.shared.phrases import (
    CALLBACK_AT,
    CALLBACK_SOON,
    ESCALATION_OPENING,
    TICKET_OPENED,
    TICKET_UPDATED,
    TRANSFER_MESSAGE,
)
from voiceagent.shared.redact import names_introduced, redact_text
from voiceagent.storage import SupportTicket
from voiceagent.tools.context import ToolContext
from voiceagent.tools.phone import InvalidPhone, last_digits, normalize_phone


def _open_ticket(ctx: ToolContext, reason: str, callback: str | None) -> tuple[int, bool]:
    """The ticket's id, and whether it was this call's open ticket, updated rather than a new one: a caller who
    adds to a request ("can we do Thursday instead?", "and I want my money back") gets one ticket that says all
    of it, with the transcript up to the latest word."""
    # The callback number has its own column (calling back is the ticket's point); the text keeps no name or number.
    said = ctx.transcript()
    names = set(ctx.personal_names()).union(*(names_introduced(entry.get("text", "")) for entry in said
                                               if entry.get("role") == "caller"))
    transcript = json.dumps([{**entry, "text": redact_text(entry.get("text", ""), names)} for entry in said])
    reason = redact_text(reason, names)
    with ctx.database.session() as session:
        ticket = session.scalars(select(SupportTicket).where(
            SupportTicket.call_sid == ctx.call_sid, SupportTicket.status == "open", SupportTicket.transferred.is_(False)
        ).order_by(SupportTicket.id.desc()).limit(1)).first() if ctx.call_sid else None
        if ticket is not None:
            if reason not in ticket.reason.split("; "):
                ticket.reason = f"{ticket.reason}; {reason}"[:500]
            ticket.transcript = transcript
            ticket.callback_phone = callback or ticket.callback_phone
            return ticket.id, True
        ticket = SupportTicket(reason=reason[:500], callback_phone=callback, call_sid=ctx.call_sid,
                               transcript=transcript)
        session.add(ticket)
        session.flush()
        return ticket.id, False


def _mark_transferred(ctx: ToolContext, ticket_id: int) -> None:
    with ctx.database.session() as session:
        ticket = session.get(SupportTicket, ticket_id)
        if ticket:
            ticket.transferred = True


# The docstring is what the LLM reads about this tool (tools/schema.py). A ticket with the transcript so far is
# opened every time, so a failed transfer still leaves the caller a way back.
async def escalate_to_human(ctx: ToolContext, reason: str, callback: str | None = None) -> dict:
    """Hand the caller to a human specialist: when they ask for a person, are frustrated, or you cannot help.

    Opens a support ticket (asked again in the same call, adds to that ticket) and transfers the call when
    possible.

    Args:
        reason: Why the caller needs a human, in a few words
        callback: Callback number if different from the caller's
    """
    try:
        number = normalize_phone(callback) if callback else normalize_phone(ctx.caller_phone or "")
    except InvalidPhone:
        number = None
    ticket_id, updated = await asyncio.to_thread(_open_ticket, ctx, reason or "caller asked for a human", number)
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
    if updated:
        return {"ok": True, "transferred": False, "ticket_id": ticket_id, "updated": True,
                "follow_up": f"{TICKET_UPDATED} {callback_text}", "message": f"{TICKET_UPDATED} {callback_text}"}
    follow_up = f"{TICKET_OPENED} {callback_text}"
    # `follow_up` is what a caller who already heard an apology still needs to hear (the ticket, the callback).
    return {"ok": True, "transferred": False, "ticket_id": ticket_id, "follow_up": follow_up,
            "message": f"{ESCALATION_OPENING} {follow_up}"}
