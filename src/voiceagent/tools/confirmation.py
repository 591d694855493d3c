"""The text message that confirms a booking: written here, sent by whatever `ToolContext.send_text` the call has."""

from __future__ import annotations

from datetime import datetime

from loguru import logger

from voiceagent.shared.phrases import CONFIRMATION_SMS
from voiceagent.tools.context import ToolContext


def booking_reference(appointment_id: int) -> str:
    """A short reference the caller can quote: the appointment's id, padded ('BK-00042')."""
    return f"BK-{appointment_id:05d}"


def confirmation_body(ctx: ToolContext, appointment_id: int, when: datetime) -> str:
    """Date and time written out in the business's zone (a text is read later, not 'tomorrow'), and the reference."""
    local = when.astimezone(ctx.hours.zone)
    clock = local.strftime("%I:%M %p").lstrip("0")
    written = f"{local:%A}, {local:%B} {local.day}, {local.year} at {clock} ({local.tzname()})"
    return CONFIRMATION_SMS.format(business=ctx.business_name, when=written,
                                   reference=booking_reference(appointment_id))


async def text_confirmation(ctx: ToolContext, appointment_id: int, when: datetime, number: str) -> bool:
    """Send the confirmation text; True only when the network accepted it (a failure never undoes the booking)."""
    if ctx.send_text is None:
        return False
    try:
        return await ctx.send_text(number, confirmation_body(ctx, appointment_id, when))
    except Exception as error:  # the booking stands; the agent just promises no text
        logger.warning(f"Confirmation text failed: {type(error).__name__}")
        return False
