"""Hand the caller to a human: a support ticket always, a live transfer when one is configured."""

from __future__ import annotations

import asyncio
import json

from loguru import logger

from voiceagent.storage import SupportTicket
from voiceagent.tools.context import ToolContext
from voiceagent.tools.phone import InvalidPhone, last_digits, normalize_phone

TRANSFER_MESSAGE = ("I want to make sure you get the best help. Let me connect you with one of our specialists "
                    "who can assist you further. Please hold...")


def _open_ticket(ctx: ToolContext, reason: str, callback: str | None) -> int:
    with ctx.database.session() as session:
        ticket = SupportTicket(reason=reason[:500], callback_phone=callback, call_sid=ctx.call_sid,
                               transcript=json.dumps(ctx.transcript()))
        session.add(ticket)
        session.flush()
        return ticket.id


def _mark_transferred(ctx: ToolContext, ticket_id: int) -> None:
    with ctx.database.session() as session:
        ticket = session.get(SupportTicket, ticket_id)
        if ticket:
            ticket.transferred = True


async def escalate_to_human(ctx: ToolContext, reason: str, callback: str | None = None) -> dict:
    """Open a ticket with the transcript so far; transfer the live call if a number is configured."""
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
    if number:
        callback_text = f"A specialist will call you back at the number ending in {' '.join(last_digits(number))}."
    else:
        callback_text = "A specialist will follow up with you as soon as possible."
    return {"ok": True, "transferred": False, "ticket_id": ticket_id,
            "message": f"I want to make sure you get the best help. I've opened a ticket for you. {callback_text}"}
