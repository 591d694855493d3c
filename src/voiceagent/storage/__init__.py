"""Persistence: SQLAlchemy models and the engine (no Pipecat, no vendors)."""

from voiceagent.storage.database import Database
from voiceagent.storage.models import Appointment, CallRecordRow, SupportTicket

__all__ = ["Appointment", "CallRecordRow", "Database", "SupportTicket"]
