"""Tool schemas generated from the tool functions: the exact contract the LLM sees, and the rules behind it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import voiceagent
from voiceagent.tools import TOOLS, ToolContext, registry, run_tool
from voiceagent.tools.schema import tool_spec

PHONE = {"type": "string", "description": "Phone number if different from the caller's"}

# Written out by hand on purpose: a docstring edit that changes what the LLM reads must fail here first.
EXPECTED = {
    "book_appointment": (
        "Book an appointment once the caller has given a day, a time and their name and has confirmed. "
        "Pass date and time as the caller said them (e.g. 'tomorrow', '2pm'); phone defaults to the caller's number.",
        {"type": "object", "additionalProperties": False, "required": ["date", "name"], "properties": {
            "date": {"type": "string", "description": "The day as said, e.g. 'tomorrow', 'next Tuesday', 'the 20th'"},
            "time": {"type": "string", "description": "The time as said, e.g. '2pm', '10:30' (may be in date)"},
            "name": {"type": "string", "description": "The caller's name"},
            "phone": PHONE,
        }},
    ),
    "check_appointment": (
        "Look up the caller's upcoming appointments: only those of the number the call comes from. "
        "For privacy, another number's bookings are never looked up or read out; asked for one, say so.",
        {"type": "object", "additionalProperties": False, "required": [], "properties": {"phone": {
            "type": "string", "description": "Only the caller's own number is accepted; leave empty to use it"}}},
    ),
    "escalate_to_human": (
        "Hand the caller to a human specialist: when they ask for a person, are frustrated, or you cannot help. "
        "Opens a support ticket (asked again in the same call, adds to that ticket) and transfers the call when "
        "possible.",
        {"type": "object", "additionalProperties": False, "required": ["reason"], "properties": {
            "reason": {"type": "string", "description": "Why the caller needs a human, in a few words"},
            "callback": {"type": "string", "description": "Callback number if different from the caller's"},
        }},
    ),
    "end_call": (
        "End the phone call. Use it when the caller says goodbye or has nothing else: say your closing line first "
        "(thank them and say goodbye), then call this. Never use it while the caller still needs something.",
        {"type": "object", "additionalProperties": False, "required": [], "properties": {}},
    ),
}


@pytest.mark.parametrize("spec", TOOLS, ids=lambda spec: spec.name)
def test_each_tool_schema_is_the_contract_with_the_llm(spec):
    description, parameters = EXPECTED[spec.name]
    assert spec.description == description
    assert spec.parameters == parameters
    assert list(spec.parameters["properties"]) == list(parameters["properties"])  # the order the LLM reads


def test_every_tool_is_in_the_contract():
    assert [spec.name for spec in TOOLS] == list(EXPECTED)


async def documented(ctx: ToolContext, word: str, hint: str | None = None, count: int = 1, weight: float = 0.5,
                     urgent: bool = False) -> dict:
    """Do a thing.

    Only when asked; the long description
    wraps over lines.

    Args:
        word: A word
        hint: An optional
            hint
        count: How many
        weight: How heavy
        urgent: Whether now
    """
    return {"ok": True}


def test_types_defaults_and_wrapped_docstrings():
    spec = tool_spec(documented)
    assert spec.name == "documented"
    assert spec.description == "Do a thing. Only when asked; the long description wraps over lines."
    assert spec.parameters["required"] == ["word"]
    assert spec.parameters["properties"] == {
        "word": {"type": "string", "description": "A word"},
        "hint": {"type": "string", "description": "An optional hint"},
        "count": {"type": "integer", "description": "How many"},
        "weight": {"type": "number", "description": "How heavy"},
        "urgent": {"type": "boolean", "description": "Whether now"},
    }


async def undocumented(ctx: ToolContext, word: str, secret: str | None = None) -> dict:
    """Do a thing.

    Args:
        word: A word
    """
    return {"ok": True}


async def described_too_much(ctx: ToolContext, word: str) -> dict:
    """Do a thing.

    Args:
        word: A word
        gone: A parameter that was removed
    """
    return {"ok": True}


async def oddly_typed(ctx: ToolContext, words: list[str]) -> dict:
    """Do a thing.

    Args:
        words: Some words
    """
    return {"ok": True}


async def silent(ctx: ToolContext) -> dict:
    return {"ok": True}


@pytest.mark.parametrize(("function", "complaint"), [
    (undocumented, "'secret' is undocumented"),
    (described_too_much, "'gone'"),
    (oddly_typed, "'words' has type"),
    (silent, "needs a docstring"),
])
def test_a_tool_the_llm_could_misread_is_refused(function, complaint):
    with pytest.raises(TypeError, match=complaint):
        tool_spec(function)


async def test_arguments_are_checked_against_the_generated_types(monkeypatch):
    monkeypatch.setitem(registry.TOOLS_BY_NAME, "documented", tool_spec(documented))
    ctx = ToolContext(database=None)
    assert (await run_tool(ctx, "documented", {"word": "hi", "count": 2, "weight": 1, "urgent": True}))["ok"]
    for arguments, message in [
        ({"word": "hi", "count": True}, "The count should be a whole number, not bool."),
        ({"word": "hi", "weight": "heavy"}, "The weight should be a number, not str."),
        ({"word": "hi", "urgent": 1}, "The urgent should be yes or no, not int."),
        ({"word": 3}, "The word should be words, not int."),
    ]:
        assert (await run_tool(ctx, "documented", arguments))["message"] == message


def test_the_tools_package_loads_no_framework_or_vendor_sdk():
    source = Path(voiceagent.__file__).resolve().parents[1]  # the src dir of the code under test
    forbidden = {"pipecat", "fastapi", "anthropic", "openai", "deepgram", "twilio"}
    script = (f"import sys, voiceagent.tools; "
              f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(forbidden)!r}))")
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(source)},
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
