"""A local server speaking Google Secret Manager's REST API for reading secrets (`versions/*:access`).

Like Google's own emulators it takes no credentials; access is denied per secret by `denied`, to exercise
IAM's PERMISSION_DENIED. Errors carry Google's JSON error shape, which the official client maps to its exceptions.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import google_crc32c
from aiohttp import web

from voiceagent.emulators.anthropic_messages import EMULATOR_SHUTDOWN_SECS

ACCESS_PERMISSION = "secretmanager.versions.access"


def google_error(status: int, code: str, message: str, details: list[dict] | None = None) -> web.Response:
    """An error in the shape of Google's JSON APIs: {"error": {"code", "message", "status", "details"}}."""
    body = {"error": {"code": status, "message": message, "status": code}}
    if details:
        body["error"]["details"] = details
    return web.json_response(body, status=status)


@dataclass
class SecretManagerEmulator:
    """Secrets of one project: each a list of versions (1-based, like the service); `latest` is the last one."""

    project: str = "voiceagent-test"
    project_number: str = "123456789012"
    secrets: dict[str, list[bytes]] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)  # secret ids the caller's service account may not read
    corrupt: set[str] = field(default_factory=set)  # fault: these secrets' checksums do not match their data
    requests: list[str] = field(default_factory=list)  # resource names asked for, in order

    def add_version(self, secret_id: str, value: str | bytes) -> int:
        """Store a new version (what `gcloud secrets versions add` does); returns its number."""
        versions = self.secrets.setdefault(secret_id, [])
        versions.append(value.encode() if isinstance(value, str) else value)
        return len(versions)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/projects/{project}/secrets/{secret}/versions/{version:[^/:]+}:access", self._access)
        return app

    async def _access(self, request: web.Request) -> web.Response:
        project, secret, version = (request.match_info[key] for key in ("project", "secret", "version"))
        resource = f"projects/{project}/secrets/{secret}/versions/{version}"
        self.requests.append(resource)
        if project not in (self.project, self.project_number) or secret in self.denied:
            return google_error(403, "PERMISSION_DENIED", f"Permission '{ACCESS_PERMISSION}' denied for resource "
                                f"'{resource}' (or it may not exist).", [{
                                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                    "reason": "IAM_PERMISSION_DENIED", "domain": "secretmanager.googleapis.com",
                                    "metadata": {"permission": ACCESS_PERMISSION, "resource": resource}}])
        versions = self.secrets.get(secret)
        if not versions:
            return google_error(404, "NOT_FOUND", f"Secret [projects/{self.project_number}/secrets/{secret}] not "
                                "found or has no versions.")
        number = len(versions) if version == "latest" else int(version) if version.isdigit() else 0
        if not 1 <= number <= len(versions):
            return google_error(404, "NOT_FOUND", f"Secret Version [projects/{self.project_number}/secrets/{secret}"
                                f"/versions/{version}] not found.")
        data = versions[number - 1]
        checksum = google_crc32c.value(data) ^ (1 if secret in self.corrupt else 0)
        # int64 fields travel as JSON strings in Google's REST mapping of protobuf.
        return web.json_response({
            "name": f"projects/{self.project_number}/secrets/{secret}/versions/{number}",
            "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(checksum)},
        })


async def start(emulator: SecretManagerEmulator) -> tuple[web.AppRunner, str]:
    """Serve on a free loopback port; returns the runner (to clean up) and the endpoint URL."""
    runner = web.AppRunner(emulator.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=EMULATOR_SHUTDOWN_SECS)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


@contextmanager
def serving_on_a_thread(emulator: SecretManagerEmulator) -> Iterator[str]:
    """Serve on an event loop of its own thread (the official client under test is synchronous); yields the URL."""
    loop = asyncio.new_event_loop()
    runner, url = loop.run_until_complete(start(emulator))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
