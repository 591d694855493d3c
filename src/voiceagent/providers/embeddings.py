"""The knowledge base's embedder, by settings: MiniLM offline (default), WordLlama (light), OpenAI (cloud)."""

from __future__ import annotations

from voiceagent.config import Settings


def make_embedder(settings: Settings):
    """The embedder the settings ask for (`EMBEDDINGS_PROVIDER`), OpenAI when its key is set."""
    provider = settings.resolved_provider("embeddings")
    if provider == "openai":
        if not settings.openai_api_key:
            raise ValueError("EMBEDDINGS_PROVIDER=openai needs OPENAI_API_KEY")
        from voiceagent.providers.openai import OpenAIEmbedder

        return OpenAIEmbedder(settings.openai_api_key.get_secret_value(), settings.openai_embedding_model,
                              base_url=settings.openai_base_url)
    if provider == "wordllama":
        from voiceagent.providers.wordllama import WordLlamaEmbedder

        return WordLlamaEmbedder()
    if provider in ("embedded", "minilm"):
        from voiceagent.providers.minilm import MiniLMEmbedder

        return MiniLMEmbedder()
    raise ValueError(f"Unknown EMBEDDINGS_PROVIDER '{provider}' (use embedded, minilm, wordllama or openai)")
