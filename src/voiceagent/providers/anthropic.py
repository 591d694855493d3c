"""Claude (Anthropic Messages API) through Pipecat's service, on a shared kept-alive SDK client."""

from __future__ import annotations

import httpx2
from anthropic import AsyncAnthropic, DefaultAsyncHttpxClient
from pipecat.services.anthropic.llm import AnthropicLLMService
from pipecat.services.llm_service import LLMService

from voiceagent.config import Settings
from voiceagent.providers.llm_http import WarmsItsConnection, shared_llm_client

try:  # the SDK's own list of retiring models and their dates (it warns per request, where nobody reads it)
    from anthropic._data.deprecated_models import DEPRECATED_MODELS
except ImportError:  # an SDK without the list: nothing to tell
    DEPRECATED_MODELS = {}


def retiring_model_warning(model: str) -> str | None:
    """What to tell the operator when `model` is one Anthropic is retiring, with the date the installed SDK gives
    (None otherwise)."""
    retires = DEPRECATED_MODELS.get(model)
    if not retires:
        return None
    return (f"ANTHROPIC_MODEL={model} is deprecated and Anthropic retires it on {retires}: after that every Claude "
            f"request fails and each call is handed to a person after its first question. Set ANTHROPIC_MODEL to a "
            f"current model.")


class WarmingAnthropicLLMService(WarmsItsConnection, AnthropicLLMService):
    def __init__(self, *, http: httpx2.AsyncClient, client: AsyncAnthropic, **kwargs):
        super().__init__(client=client, **kwargs)
        self._http, self._warm_url = http, str(client.base_url)


def make_anthropic_llm(settings: Settings) -> LLMService:
    secret = settings.anthropic_api_key.get_secret_value()
    client, http = shared_llm_client(
        ("anthropic", settings.anthropic_base_url, secret, settings.llm_timeout_secs, settings.llm_max_retries),
        DefaultAsyncHttpxClient,
        lambda http: AsyncAnthropic(api_key=secret, base_url=settings.anthropic_base_url, http_client=http,
                                    timeout=settings.llm_timeout_secs, max_retries=settings.llm_max_retries),
    )
    return WarmingAnthropicLLMService(
        http=http,
        api_key=secret,
        client=client,
        settings=AnthropicLLMService.Settings(model=settings.anthropic_model, max_tokens=300,
                                              enable_prompt_caching=True),
    )
