"""OpenAI: any OpenAI-compatible chat-completions server as the LLM (vLLM, llama.cpp's server, Ollama), and
OpenAI embeddings for the knowledge base."""

from __future__ import annotations

from openai import AsyncOpenAI, OpenAI
from openai import DefaultAsyncHttpxClient as OpenAIHttpClient
from pipecat.services.llm_service import LLMService
from pipecat.services.openai.llm import OpenAILLMService

from voiceagent.config import Settings
from voiceagent.providers.llm_http import WarmsItsConnection, shared_llm_client


class OpenAICompatibleLLMService(WarmsItsConnection, OpenAILLMService):
    """Pipecat's OpenAI service with the Anthropic path's resilience: a whole-request timeout and SDK retries,
    one client per process with kept-alive connections, warmed at call start."""

    def __init__(self, *, timeout_secs: float, max_retries: int, **kwargs):
        self._timeout_secs, self._max_retries = timeout_secs, max_retries
        super().__init__(**kwargs)

    def create_client(self, api_key=None, base_url=None, **kwargs):
        client, self._http = shared_llm_client(
            ("openai", base_url, api_key, self._timeout_secs, self._max_retries),
            OpenAIHttpClient,
            lambda http: AsyncOpenAI(api_key=api_key, base_url=base_url, http_client=http,
                                     timeout=self._timeout_secs, max_retries=self._max_retries),
        )
        self._warm_url = str(client.base_url)
        return client


def make_openai_compatible_llm(settings: Settings) -> LLMService:
    """Any OpenAI-compatible chat-completions server by base URL."""
    key = settings.openai_llm_api_key or settings.openai_api_key
    return OpenAICompatibleLLMService(
        timeout_secs=settings.llm_timeout_secs,
        max_retries=settings.llm_max_retries,
        api_key=key.get_secret_value() if key else "not-needed",
        base_url=settings.openai_llm_base_url or settings.openai_base_url,
        settings=OpenAILLMService.Settings(model=settings.openai_llm_model, max_tokens=300),
    )


class OpenAIEmbedder:
    """OpenAI embeddings through the official SDK; the base URL is configurable (emulators plug in there)."""

    def __init__(self, api_key: str, model: str = "text-embedding-3-small", base_url: str | None = None,
                 timeout: float = 10.0):
        self.model_id = f"openai-{model}"
        self._model = model
        self._client = OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=2)

    def embed(self, texts: list[str]) -> list[list[float]]:
        response = self._client.embeddings.create(model=self._model, input=texts)
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
