"""X-Twilio-Signature checks for the webhook and the WebSocket upgrade."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def public_url(scheme: str, host: str, path: str, query: str = "", configured_base: str | None = None) -> str:
    """The URL Twilio signed: from the configured public base URL, else from the proxy headers."""
    if configured_base:
        base = configured_base.rstrip("/")
    else:
        base = f"{scheme}://{host}"
    return f"{base}{path}" + (f"?{query}" if query else "")


class SignatureChecker:
    """Validates Twilio signatures; with no auth token configured every request passes."""

    def __init__(self, auth_token: str | None):
        self._validator = RequestValidator(auth_token) if auth_token else None

    @property
    def enabled(self) -> bool:
        return self._validator is not None

    def valid(self, url: str, params: Mapping[str, str], signature: str | None) -> bool:
        if self._validator is None:
            return True
        if not signature:
            return False
        return bool(self._validator.validate(url, dict(params), signature))

    def valid_websocket(self, url: str, signature: str | None) -> bool:
        """The upgrade is signed like a GET; whether Twilio signs the wss:// or https:// form is unconfirmed."""
        if self._validator is None:
            return True
        if not signature:
            return False
        candidates = {url}
        if url.startswith("wss://"):
            candidates.add("https://" + url[len("wss://"):])
        elif url.startswith("https://"):
            candidates.add("wss://" + url[len("https://"):])
        elif url.startswith("ws://"):
            candidates.add("http://" + url[len("ws://"):])
        elif url.startswith("http://"):
            candidates.add("ws://" + url[len("http://"):])
        return any(self._validator.validate(candidate, {}, signature) for candidate in candidates)
