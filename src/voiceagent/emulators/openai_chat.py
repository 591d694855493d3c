"""A local server speaking OpenAI's Chat Completions API (JSON and SSE streaming, tool calls), as vLLM,
llama.cpp's server and Ollama do; the replies come from the same scripted policy as the Anthropic emulator."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from voiceagent.emulators.anthropic_messages import answers_tool_result, decide
from voiceagent.emulators.openai_embeddings import openai_error


@dataclass
class ChatFaults:
    """Switches tests flip: fail the next N requests with a status, hang, drop the stream, send a chunk
    that is not JSON, or take a while to answer a tool result (a slow tool round trip)."""

    fail_next: int = 0
    status: int = 429
    hang_next: int = 0
    disconnect_next: int = 0
    malformed_next: int = 0
    slow_tool_ms: float = 0.0


def to_anthropic_shape(body: dict) -> dict:
    """The request as the scripted policy reads it: system text apart, a tool result as a tool_result part."""
    system = " ".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system")
    messages = []
    for message in body.get("messages", []):
        role, content = message.get("role"), message.get("content")
        if role == "tool":
            messages.append({"role": "user", "content": [{"type": "tool_result", "content": str(content)}]})
        elif role in ("user", "assistant"):
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            messages.append({"role": role, "content": content or ""})
    return {"system": system, "messages": messages}


@dataclass
class OpenAIChatEmulator:
    first_token_ms: float = 400.0
    jitter: float = 0.2
    api_key: str = "test-key"
    faults: ChatFaults = field(default_factory=ChatFaults)
    requests: list[dict] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        return app

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return openai_error(401, "invalid_request_error", "Incorrect API key provided", "invalid_api_key")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return openai_error(400, "invalid_request_error", "We could not parse the JSON body of your request.")
        self.requests.append(body)
        if self.faults.fail_next > 0:
            self.faults.fail_next -= 1
            kind = "rate_limit_exceeded" if self.faults.status == 429 else "server_error"
            return openai_error(self.faults.status, kind, f"emulated {self.faults.status}")
        if self.faults.hang_next > 0:
            self.faults.hang_next -= 1
            await asyncio.sleep(3600)
        shaped = to_anthropic_shape(body)
        if self.faults.slow_tool_ms and answers_tool_result(shaped):
            await asyncio.sleep(self.faults.slow_tool_ms / 1000)
        blocks = decide(shaped)
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        usage = {"prompt_tokens": len(json.dumps(body.get("messages", []))) // 4,
                 "completion_tokens": max(1, len(json.dumps(blocks)) // 4)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        await asyncio.sleep(self.first_token_ms / 1000 * (1 + random.uniform(-self.jitter, self.jitter)))
        if not body.get("stream"):
            return web.json_response(_completion(completion_id, body, blocks, usage))
        try:
            return await self._stream(request, completion_id, body, blocks, usage)
        except ConnectionResetError:  # the client went away (an interrupted reply)
            return web.Response(status=499)

    async def _stream(self, request, completion_id, body, blocks, usage) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        created, model = int(time.time()), body.get("model", "")
        disconnect, malformed = self.faults.disconnect_next > 0, self.faults.malformed_next > 0
        self.faults.disconnect_next -= int(disconnect)
        self.faults.malformed_next -= int(malformed)

        async def chunk(delta: dict, finish: str | None = None, choices: bool = True, **extra):
            data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
                    if choices else [], **extra}
            await response.write(f"data: {json.dumps(data)}\n\n".encode())

        await chunk({"role": "assistant", "content": ""})
        if malformed:
            await response.write(b'data: {"id": "' + completion_id.encode() + b'", "choices": [\n\n')
        tool_index = 0
        for block in blocks:
            if block["type"] == "text":
                for piece in re.findall(r"\S+\s*", block["text"]):
                    await chunk({"content": piece})
                    await asyncio.sleep(0.01)
                    if disconnect:
                        request.transport.close()
                        return response
            else:
                call_id = "call_" + uuid.uuid4().hex[:24]
                await chunk({"tool_calls": [{"index": tool_index, "id": call_id, "type": "function",
                                             "function": {"name": block["name"], "arguments": ""}}]})
                raw = json.dumps(block["input"])
                for start in range(0, len(raw), 12):
                    await chunk({"tool_calls": [{"index": tool_index, "function": {"arguments": raw[start:start + 12]}}]})
                tool_index += 1
        await chunk({}, finish="tool_calls" if tool_index else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            await chunk({}, choices=False, usage=usage)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _completion(completion_id: str, body: dict, blocks: list[dict], usage: dict) -> dict:
    text = " ".join(b["text"] for b in blocks if b["type"] == "text") or None
    calls = [{"id": "call_" + uuid.uuid4().hex[:24], "type": "function",
              "function": {"name": b["name"], "arguments": json.dumps(b["input"])}}
             for b in blocks if b["type"] == "tool_use"]
    message = {"role": "assistant", "content": text, **({"tool_calls": calls} if calls else {})}
    return {"id": completion_id, "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", ""), "usage": usage,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}]}
