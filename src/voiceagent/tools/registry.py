"""The tools an agent may call: JSON schemas for an LLM, and one safe entry point that never raises."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from loguru import logger

from voiceagent.tools.appointments import book_appointment, check_appointment
from voiceagent.tools.context import ToolContext
from voiceagent.tools.escalation import escalate_to_human

SORRY = "Sorry, something went wrong on my side. Let me try that again in a moment."


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict
    function: Callable[..., Awaitable[dict]]


def _schema(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


TOOLS = [
    ToolSpec(
        "book_appointment",
        "Book an appointment once the caller has given a day, a time and their name and has confirmed. "
        "Pass date and time as the caller said them (e.g. 'tomorrow', '2pm'); phone defaults to the caller's number.",
        _schema({
            "date": {"type": "string", "description": "The day as said, e.g. 'tomorrow', 'next Tuesday', 'the 20th'"},
            "time": {"type": "string", "description": "The time as said, e.g. '2pm', '10:30' (may be in date)"},
            "name": {"type": "string", "description": "The caller's name"},
            "phone": {"type": "string", "description": "Phone number if different from the caller's"},
        }, ["date", "name"]),
        book_appointment,
    ),
    ToolSpec(
        "check_appointment",
        "Look up the caller's upcoming appointments by phone number (the caller's own number by default).",
        _schema({"phone": {"type": "string", "description": "Phone number if different from the caller's"}}, []),
        check_appointment,
    ),
    ToolSpec(
        "escalate_to_human",
        "Hand the caller to a human specialist: when they ask for a person, are frustrated, or you cannot help. "
        "Opens a support ticket and transfers the call when possible.",
        _schema({
            "reason": {"type": "string", "description": "Why the caller needs a human, in a few words"},
            "callback": {"type": "string", "description": "Callback number if different from the caller's"},
        }, ["reason"]),
        escalate_to_human,
    ),
]
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}


def _invalid(message: str) -> dict:
    return {"ok": False, "error": "invalid_arguments", "message": message}


def _check_arguments(spec: ToolSpec, arguments: dict) -> str | None:
    properties = spec.parameters["properties"]
    for name in spec.parameters["required"]:
        if arguments.get(name) in (None, ""):
            return f"I still need the {name} for that."
    for name, value in arguments.items():
        if name not in properties:
            return f"I can't use '{name}' for {spec.name}."
        if value is not None and not isinstance(value, str):
            return f"The {name} should be words, not {type(value).__name__}."
    return None


async def run_tool(ctx: ToolContext, name: str, arguments: dict | str | None) -> dict:
    """Validate and run one tool call; every failure comes back as a result the agent can speak."""
    spec = TOOLS_BY_NAME.get(name)
    if spec is None:
        return _invalid(f"I don't have a tool called {name}.")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            return _invalid("I couldn't read the details for that request.")
    arguments = arguments or {}
    if not isinstance(arguments, dict):
        return _invalid("I couldn't read the details for that request.")
    problem = _check_arguments(spec, arguments)
    if problem:
        return _invalid(problem)
    try:
        accepted = inspect.signature(spec.function).parameters
        return await spec.function(ctx, **{k: v for k, v in arguments.items() if k in accepted})
    except Exception as error:
        logger.exception(f"Tool {name} failed: {type(error).__name__}")
        return {"ok": False, "error": "internal", "message": SORRY}
