"""A local server speaking Anthropic's Messages API (JSON and SSE streaming, tool use) with a scripted policy."""

from __future__ import annotations

import asyncio
import json
import random
import re
import uuid
from dataclasses import dataclass, field

from aiohttp import web

# A test's emulator stops at once: a request left hanging on purpose must not hold its clean-up for a minute.
EMULATOR_SHUTDOWN_SECS = 1.0


@dataclass
class Faults:
    """Switches tests flip: fail the next N requests with a status, hang, drop the stream mid-way, send
    an event whose data is not JSON, or take a while to answer a tool result (a slow tool round trip)."""

    fail_next: int = 0
    status: int = 529
    hang_next: int = 0
    disconnect_next: int = 0
    malformed_next: int = 0
    slow_tool_ms: float = 0.0


@dataclass
class AnthropicEmulator:
    first_token_ms: float = 400.0
    jitter: float = 0.2
    tool_delay_ms: float = 0.0  # extra wait before a tool_use block streams (a slow tool-deciding model)
    api_key: str = "test-key"
    faults: Faults = field(default_factory=Faults)
    requests: list[dict] = field(default_factory=list)
    peers: set = field(default_factory=set)  # the client's (host, port) of every connection a request came on
    _seen_prefixes: set[str] = field(default_factory=set)

    def app(self) -> web.Application:
        @web.middleware
        async def note_connection(request: web.Request, handler):
            self.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
            return await handler(request)

        app = web.Application(middlewares=[note_connection])
        app.router.add_post("/v1/messages", self._messages)
        return app

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("x-api-key") != self.api_key:
            return _error(401, "authentication_error", "invalid x-api-key")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "invalid_request_error", "body is not JSON")
        self.requests.append(body)
        if self.faults.fail_next > 0:
            self.faults.fail_next -= 1
            kind = "overloaded_error" if self.faults.status == 529 else "rate_limit_error"
            return _error(self.faults.status, kind, "Overloaded" if self.faults.status == 529 else "Rate limited")
        if self.faults.hang_next > 0:
            self.faults.hang_next -= 1
            await asyncio.sleep(3600)
        if self.faults.slow_tool_ms and answers_tool_result(body):
            await asyncio.sleep(self.faults.slow_tool_ms / 1000)
        blocks = decide(body)
        usage = self._usage(body, blocks)
        if not body.get("stream"):
            await asyncio.sleep(self._delay())
            return web.json_response(_message(body, blocks, usage))
        try:
            return await self._stream(request, body, blocks, usage)
        except ConnectionResetError:  # the client went away (an interrupted reply): nothing to finish
            return web.Response(status=499)

    def _delay(self) -> float:
        return self.first_token_ms / 1000 * (1 + random.uniform(-self.jitter, self.jitter))

    def _usage(self, body: dict, blocks: list[dict]) -> dict:
        system = json.dumps(body.get("system", "")) + json.dumps(body.get("tools", []))
        cached = "cache_control" in system
        prefix_tokens = len(system) // 4
        read = prefix_tokens if cached and system in self._seen_prefixes else 0
        created = prefix_tokens if cached and not read else 0
        self._seen_prefixes.add(system)
        total_in = len(json.dumps(body.get("messages", []))) // 4 + prefix_tokens
        return {"input_tokens": max(1, total_in - read - created), "cache_read_input_tokens": read,
                "cache_creation_input_tokens": created,
                "output_tokens": max(1, sum(len(json.dumps(b)) for b in blocks) // 4)}

    async def _stream(self, request, body, blocks, usage) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        disconnect = self.faults.disconnect_next > 0
        if disconnect:
            self.faults.disconnect_next -= 1
        malformed = self.faults.malformed_next > 0
        if malformed:
            self.faults.malformed_next -= 1

        async def send(event: str, data: dict):
            await response.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

        message = _message(body, [], {**usage, "output_tokens": 1}, final=False)
        await send("message_start", {"type": "message_start", "message": message})
        await asyncio.sleep(self._delay())
        await send("ping", {"type": "ping"})
        if malformed:
            await response.write(b'event: content_block_start\ndata: {"type": "content_block_start", "index": 0\n\n')
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                await send("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "text", "text": ""}})
                for piece in re.findall(r"\S+\s*", block["text"]):
                    await send("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": {"type": "text_delta", "text": piece}})
                    await asyncio.sleep(0.01)
                    if disconnect:
                        request.transport.close()  # mid-stream drop, as a broken connection looks
                        return response
            else:
                await asyncio.sleep(self.tool_delay_ms / 1000)
                await send("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
                raw = json.dumps(block["input"])
                for start in range(0, len(raw), 12):
                    await send("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": {"type": "input_json_delta", "partial_json": raw[start:start + 12]}})
            await send("content_block_stop", {"type": "content_block_stop", "index": index})
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        await send("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                     "usage": {"output_tokens": usage["output_tokens"]}})
        await send("message_stop", {"type": "message_stop"})
        await response.write_eof()
        return response


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"type": "error", "error": {"type": kind, "message": message}}, status=status)


def _message(body: dict, blocks: list[dict], usage: dict, final: bool = True) -> dict:
    """A whole message, or (not final) the one `message_start` carries: no stop reason yet."""
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return {"id": "msg_" + uuid.uuid4().hex[:24], "type": "message", "role": "assistant",
            "model": body.get("model", "claude-sonnet-4-6"), "content": blocks, "stop_reason": stop if final else None,
            "stop_sequence": None, "usage": usage}


def _caller_words(message: dict) -> str:
    """What the caller said in one user message (its text parts, without tool results), lower case."""
    content = message.get("content")
    parts = [content] if isinstance(content, str) else [
        part.get("text", "") for part in content or [] if isinstance(part, dict) and part.get("type") == "text"]
    return " ".join(part.split("Caller: ")[-1] for part in parts).lower()


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")


def answers_tool_result(body: dict) -> bool:
    """The request's last message carries a tool result (the model is asked to answer what a tool returned)."""
    messages = body.get("messages", [])
    content = messages[-1].get("content") if messages else None
    return isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") == "tool_result" for part in content)


# The caller taking leave, as a model given the system prompt's end_call rule reads it
LEAVE_TAKING = re.compile(r"\b(good ?bye|bye|that'?s all|that is all|no,? thanks?|nothing else)\b")


def decide(body: dict) -> list[dict]:
    """The scripted policy: tool results are summarised; caller text maps to a tool call or an answer; a caller
    taking leave gets the closing line and end_call."""
    messages = body.get("messages", [])
    last = messages[-1] if messages else {"content": ""}
    content = last.get("content")
    if isinstance(content, list):
        results = [part for part in content if isinstance(part, dict) and part.get("type") == "tool_result"]
        spoke = any(isinstance(part, dict) and part.get("type") == "text" and part.get("text", "").strip()
                    for part in content)
        if results and not spoke:  # (a caller who spoke after the tool ran is answered instead, below)
            raw = results[-1].get("content")
            raw = _text_of(raw) if isinstance(raw, list) else str(raw)
            try:
                result = json.loads(raw)
                said = result.get("message") or raw
            except (json.JSONDecodeError, AttributeError):
                result, said = {}, raw
            if result.get("ending"):
                return []  # the call is ending: nothing more to say (clients normally don't even ask)
            return [{"type": "text", "text": f"{said} Is there anything else I can help with?"}]
    # The caller's latest words decide (consecutive caller turns arrive merged into one message).
    parts = [content] if isinstance(content, str) else [
        part.get("text", "") for part in content or [] if isinstance(part, dict) and part.get("type") == "text"]
    text = (parts[-1] if parts else "").split("Caller: ")[-1].lower()
    tool = {"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:20]}
    if LEAVE_TAKING.search(text):
        business = re.search(r"assistant of (.+?) Customer Support", json.dumps(body.get("system", "")))
        thanks = f"Thanks for calling {business.group(1)}." if business else "Thanks for calling."
        return [{"type": "text", "text": f"{thanks} Have a great day!"}, {**tool, "name": "end_call", "input": {}}]
    if re.search(r"\b(human|person|agent|representative|specialist)\b", text):
        return [{"type": "text", "text": "Let me get someone for you."},
                {**tool, "name": "escalate_to_human", "input": {"reason": "caller asked for a person"}}]
    if re.search(r"\b(check|look up)\b.*\bappointment", text):
        return [{**tool, "name": "check_appointment", "input": {}}]
    if re.search(r"\bname is\b|\b(tomorrow|monday|tuesday|wednesday|thursday|friday)\b", text) and not any(
            part.get("type") == "tool_use" and part.get("name") == "book_appointment"
            for m in messages if isinstance(m.get("content"), list) for part in m["content"] if isinstance(part, dict)):
        # As a model reads the whole conversation: a request whose day and name came in separate turns (a pause
        # between the sentences ended the turn) is still one booking, until it has been made; a turn that
        # gives no detail of it ("actually, wait, how much is the Pro plan?") is about something else.
        text = " ".join(_caller_words(m) for m in messages if m.get("role") == "user")
    booking = re.search(r"\bbook\b.*?\b(tomorrow|monday|tuesday|wednesday|thursday|friday)\b.*?\bat ([\w:]+(?: ?[ap]\.?m\b\.?)?)", text)
    name = re.search(r"\bname is ([a-z]+(?: [a-z]+)?)", text)
    if booking and name:
        return [{**tool, "name": "book_appointment",
                 "input": {"date": booking.group(1), "time": booking.group(2), "name": name.group(1).title()}}]
    context = json.dumps(body.get("system", "")) + json.dumps(messages)
    answer = re.search(r"Answer: ([^\"\\\\]+?[.!?])", context)
    if answer:
        return [{"type": "text", "text": answer.group(1)}]
    return [{"type": "text", "text": "I can help with questions about ByteAI, or book an appointment for you."}]


async def serve(emulator: AnthropicEmulator, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, str]:
    """Start on a loopback port; returns the runner (to clean up) and the base URL."""
    runner = web.AppRunner(emulator.app())
    await runner.setup()
    site = web.TCPSite(runner, host, port, shutdown_timeout=EMULATOR_SHUTDOWN_SECS)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    return runner, f"http://{host}:{bound}"
