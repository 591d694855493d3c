"""The browser side: the softphone page (/phone) and the call console (/console)."""

from voiceagent.web.routes import browser_may_stream, web_router

__all__ = ["browser_may_stream", "web_router"]
