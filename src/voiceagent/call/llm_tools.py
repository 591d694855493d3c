"""The tool registry offered to an LLM service: Pipecat function schemas, and handlers through the safe runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.frames.frames import FunctionCallResultProperties
from pipecat.services.llm_service import FunctionCallParams, LLMService

from voiceagent.tools import TOOLS

ToolRunner = Callable[[str, dict], Awaitable[dict]]


def tools_schema() -> ToolsSchema:
    """The same tool registry the offline engine uses, as Pipecat function schemas."""
    return ToolsSchema(standard_tools=[
        FunctionSchema(name=spec.name, description=spec.description,
                       properties=spec.parameters["properties"], required=spec.parameters["required"])
        for spec in TOOLS
    ])


def register_tools(llm: LLMService, call_tool: ToolRunner) -> None:
    """Each tool call runs through the validating runner; a call from an interrupted reply is cancelled. A result
    that ends the call (end_call) is not sent back to the LLM: the closing line is said, nothing follows."""
    for spec in TOOLS:
        async def handler(params: FunctionCallParams, name: str = spec.name) -> None:
            result = await call_tool(name, dict(params.arguments or {}))
            ending = FunctionCallResultProperties(run_llm=False) if result.get("ending") else None
            await params.result_callback(result, properties=ending)

        llm.register_function(spec.name, handler, cancel_on_interruption=True)
