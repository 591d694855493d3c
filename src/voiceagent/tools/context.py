"""What a tool knows about the call it runs in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from voiceagent.storage import Database
from voiceagent.tools.when import BusinessHours


@dataclass
class ToolContext:
    """Per-call facts and services a tool may use; the telephony layer injects `transfer_call`."""

    database: Database
    hours: BusinessHours = field(default_factory=BusinessHours)
    caller_phone: str | None = None
    call_sid: str | None = None
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    transcript: Callable[[], list[dict]] = list
    transfer_call: Callable[[str], Awaitable[bool]] | None = None
    transfer_number: str | None = None
    on_escalated: Callable[[], None] | None = None
