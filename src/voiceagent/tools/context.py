"""What a tool knows about the call it runs in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from voiceagent.storage import Database
from voiceagent.tools.when import BusinessHours


@dataclass
class ToolContext:
    """Per-call facts and services a tool may use; the call layer injects the callbacks (transfer, text, end)."""

    database: Database
    hours: BusinessHours = field(default_factory=BusinessHours)
    caller_phone: str | None = None
    call_sid: str | None = None
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    transcript: Callable[[], list[dict]] = list
    personal_names: Callable[[], Iterable[str]] = tuple  # names known from the call, masked in what tools store
    transfer_call: Callable[[str], Awaitable[bool]] | None = None
    transfer_number: str | None = None
    on_escalated: Callable[[], None] | None = None
    business_name: str = "ByteAI"
    # send_text(to, body) -> accepted; None when no SMS sender is configured (the agent then promises no text)
    send_text: Callable[[str, str], Awaitable[bool]] | None = None
    on_end_call: Callable[[], None] | None = None  # the agent said goodbye: hang up once it has been heard
