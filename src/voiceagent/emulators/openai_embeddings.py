"""A local server speaking OpenAI's embeddings endpoint, with deterministic bag-of-words vectors."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field

from aiohttp import web


def hashed_vector(text: str, dimensions: int) -> list[float]:
    """Words and word pairs hashed into a fixed-size vector: similar texts get similar vectors."""
    words = re.findall(r"[a-z0-9$]+", text.lower())
    vector = [0.0] * dimensions
    for token in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] % 2 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def openai_error(status: int, kind: str, message: str, code: str | None = None,
                 headers: dict | None = None) -> web.Response:
    """An error response in OpenAI's shape, as its SDK parses it."""
    return web.json_response({"error": {"message": message, "type": kind, "param": None, "code": code or kind}},
                             status=status, headers=headers)


@dataclass
class OpenAIEmbeddingsEmulator:
    api_key: str = "test-key"
    requests: list[dict] = field(default_factory=list)
    fail_next: int = 0  # fault: answer the next N requests with `fail_status` (429: rate limited)
    fail_status: int = 429

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/embeddings", self._embeddings)
        return app

    async def _embeddings(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return openai_error(401, "invalid_request_error", "Incorrect API key provided", "invalid_api_key")
        if self.fail_next > 0:
            self.fail_next -= 1
            kind = "rate_limit_exceeded" if self.fail_status == 429 else "server_error"
            return openai_error(self.fail_status, kind, f"emulated {self.fail_status}",
                                headers={"retry-after-ms": "50"} if self.fail_status == 429 else None)
        body = await request.json()
        self.requests.append(body)
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dimensions = int(body.get("dimensions") or 1536)
        data = [{"object": "embedding", "index": i, "embedding": hashed_vector(text, dimensions)}
                for i, text in enumerate(inputs)]
        tokens = sum(len(str(text).split()) for text in inputs)
        return web.json_response({"object": "list", "data": data, "model": body.get("model", "text-embedding-3-small"),
                                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
