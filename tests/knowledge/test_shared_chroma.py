"""CHROMA_URL: several instances read and ingest one knowledge base on a `chroma run` server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.cluster.services import chroma_server
from voiceagent.emulators.openai_embeddings import hashed_vector
from voiceagent.knowledge import KnowledgeBase, drop_knowledge_base, load_faq


class HashedEmbedder:
    """Deterministic vectors without a model: this test is about the store, not retrieval quality."""

    model_id = "hashed-256"

    def embed(self, texts):
        return [hashed_vector(text, 256) for text in texts]


@pytest.fixture
def chroma_url(tmp_path):
    with chroma_server(tmp_path) as url:
        yield url


def test_instances_ingesting_at_once_share_one_collection_without_duplicates(tmp_path, chroma_url):
    entries = load_faq()
    instances = [KnowledgeBase(tmp_path / f"instance{i}", HashedEmbedder(), url=chroma_url) for i in range(3)]
    with ThreadPoolExecutor(3) as pool:  # three instances starting together, each ingesting the FAQ
        reports = list(pool.map(lambda kb: kb.ingest(entries), instances))
    vectors = sum(len(entry.questions) + 1 for entry in entries)  # each wording, and question + answer
    assert all(kb.count == vectors for kb in instances), [kb.count for kb in instances]
    assert sum(report.added + report.updated for report in reports) >= len(entries)
    assert not any((tmp_path / f"instance{i}").exists() for i in range(3))  # nothing stored locally
    again = instances[0].ingest(entries)  # once it is in, a later start embeds nothing
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, len(entries))
    pricing = next(e for e in entries if "99" in e.answer)
    assert {kb.search(pricing.question, k=1)[0].entry.id for kb in instances} == {pricing.id}


def test_a_rebuild_by_one_instance_is_picked_up_by_the_others(tmp_path, chroma_url):
    entries = load_faq()[:10]
    reader = KnowledgeBase(tmp_path / "a", HashedEmbedder(), url=chroma_url)
    reader.ingest(entries)
    KnowledgeBase(tmp_path / "b", HashedEmbedder(), url=chroma_url).ingest(entries, rebuild=True)
    hit = reader.search(entries[3].question, k=1)
    assert hit and hit[0].entry.id == entries[3].id and reader.search_failures == 0


def test_a_down_server_means_answers_without_the_faq_not_a_failed_call(tmp_path):
    with chroma_server(tmp_path) as url:
        kb = KnowledgeBase(tmp_path / "kb", HashedEmbedder(), url=url)
        kb.ingest(load_faq()[:4])
    assert kb.search("how much is the pro plan") == [] and kb.search_failures == 1


def test_dropping_the_shared_collection_empties_it_for_everyone(tmp_path, chroma_url):
    KnowledgeBase(tmp_path / "a", HashedEmbedder(), url=chroma_url).ingest(load_faq()[:4])
    drop_knowledge_base(tmp_path / "a", chroma_url)
    drop_knowledge_base(tmp_path / "a", chroma_url)  # already gone: no error
    assert KnowledgeBase(tmp_path / "b", HashedEmbedder(), url=chroma_url).is_empty
