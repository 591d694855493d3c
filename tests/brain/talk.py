"""The offline dialog engine as the brain tests drive it: real tools on a SQLite database, the runtime's knowledge
base, "now" a Thursday morning."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from voiceagent.brain.dialog import DialogEngine
from voiceagent.storage import Database
from voiceagent.tools import BusinessHours, ToolContext, run_tool
from voiceagent.tools.appointments import describe_requested_time, free_times_on

NOW = datetime(2026, 2, 19, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # a Thursday morning


def build_engine(database: Database, runtime, intents, caller: str = "+15551234567",
                 call_sid: str = "CA1") -> DialogEngine:
    ctx = ToolContext(database=database, hours=BusinessHours(), caller_phone=caller, call_sid=call_sid,
                      now=lambda: NOW)
    return DialogEngine("ByteAI", knowledge=runtime.knowledge, run_tool=lambda name, args: run_tool(ctx, name, args),
                        describe_when=lambda text: describe_requested_time(ctx, text),
                        free_times=lambda text: free_times_on(ctx, text), intents=intents)


def new_database(tmp_path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'dialog.db'}")
    database.create_all()
    return database


async def say(engine: DialogEngine, text: str) -> str:
    return " ".join([u.text async for u in engine.respond(text) if u.kind == "answer"])


async def ends_call(engine: DialogEngine, text: str) -> bool:
    return any([u.end_call async for u in engine.respond(text)])
