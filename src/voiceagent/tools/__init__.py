"""Agent tools: plain async functions with JSON schemas (no Pipecat, no vendor SDKs)."""

from voiceagent.tools.context import ToolContext
from voiceagent.tools.registry import TOOLS, ToolSpec, run_tool
from voiceagent.tools.when import BusinessHours

__all__ = ["TOOLS", "BusinessHours", "ToolContext", "ToolSpec", "run_tool"]
