"""The tools an agent may call: JSON schemas for an LLM, and one safe entry point that never raises."""

from __future__ import annotations

import inspect
import json

from loguru import logger

from voiceagent.shared.phrases import TOOL_FAILED
from voiceagent.tools.appointments import book_appointment, check_appointment
from voiceagent.tools.context import ToolContext
from voiceagent.tools.ending import end_call
from voiceagent.tools.escalation import escalate_to_human
from voiceagent.tools.schema import ToolSpec, tool_spec

TOOLS = [tool_spec(book_appointment), tool_spec(check_appointment), tool_spec(escalate_to_human), tool_spec(end_call)]
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}


def _invalid(message: str) -> dict:
    return {"ok": False, "error": "invalid_arguments", "message": message}


_PYTHON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
_SAID_AS = {"string": "words", "integer": "a whole number", "number": "a number", "boolean": "yes or no"}


def _is_json_type(value: object, expected: str) -> bool:
    if isinstance(value, bool):  # bool is an int in Python, never in JSON
        return expected == "boolean"
    return isinstance(value, _PYTHON_TYPES[expected])


def _check_arguments(spec: ToolSpec, arguments: dict) -> str | None:
    properties = spec.parameters["properties"]
    for name in spec.parameters["required"]:
        if arguments.get(name) in (None, ""):
            return f"I still need the {name} for that."
    for name, value in arguments.items():
        if name not in properties:
            return f"I can't use '{name}' for {spec.name}."
        expected = properties[name]["type"]
        if value is not None and not _is_json_type(value, expected):
            return f"The {name} should be {_SAID_AS[expected]}, not {type(value).__name__}."
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
        return {"ok": False, "error": "internal", "message": TOOL_FAILED}
