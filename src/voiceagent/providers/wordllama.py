"""WordLlama l2_supercat embeddings: tiny and fast, weaker on paraphrases."""

from __future__ import annotations

from pathlib import Path


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
