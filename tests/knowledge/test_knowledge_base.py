"""The FAQ data, idempotent ingestion, model mismatch, retrieval quality and caching."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from voiceagent.knowledge import EmbeddingModelMismatch, KnowledgeBase, KnowledgeError, load_faq
from voiceagent.knowledge.evaluation import evaluate, load_questions
from voiceagent.knowledge.faq import HELD_OUT_EVAL, FaqEntry
from voiceagent.knowledge.lexical import LexicalIndex, words_of
from voiceagent.knowledge.names import name_index, names_in
from voiceagent.knowledge.store import asked_feature, clean_query


class CountingEmbedder:
    """Wraps the real embedder and counts how many texts it embedded."""

    def __init__(self, inner, model_id=None):
        self.inner, self.embedded = inner, 0
        self.model_id = model_id or inner.model_id

    def embed(self, texts):
        self.embedded += len(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def embedder(runtime):
    return runtime.knowledge.embedder


def test_the_faq_covers_five_topics_with_the_plans_facts():
    entries = load_faq()
    assert len(entries) >= 50
    assert {e.category for e in entries} == {"features", "pricing", "technical", "troubleshooting", "account"}
    pricing = " ".join(e.answer for e in entries if e.category == "pricing")
    assert "Pro at $99 a month with 10,000 API calls" in pricing
    assert "Business at $299 a month with unlimited calls" in pricing and "24/7 support" in pricing
    for entry in entries:  # written to be spoken: no markdown, no URLs, at most two sentences
        assert not re.search(r"[*#`\[\]]|https?://", entry.answer), entry.id
        assert len(re.findall(r"[.!?](\s|$)", entry.answer)) <= 2, entry.id


def test_a_broken_faq_file_is_a_clear_error(tmp_path):
    path = tmp_path / "faq.json"
    path.write_text(json.dumps({"documents": [{"id": "a", "category": "x", "question": "q"}]}))
    with pytest.raises(KnowledgeError, match="lacks"):
        load_faq(path)
    path.write_text(json.dumps({"documents": [{"id": "a", "category": "x", "question": "q", "answer": "a"}] * 2}))
    with pytest.raises(KnowledgeError, match="duplicate id a"):
        load_faq(path)


def test_other_wordings_of_a_question_are_loaded_and_checked(tmp_path):
    path = tmp_path / "faq.json"
    entry = {"id": "a", "category": "x", "question": "Can I pause?", "answer": "Yes."}
    path.write_text(json.dumps({"documents": [{**entry, "also_asked": ["Can I freeze my account?", " Take a break? "]}]}))
    (loaded,) = load_faq(path)
    assert loaded.questions == ("Can I pause?", "Can I freeze my account?", "Take a break?")
    for bad in ("Can I freeze it?", ["ok", ""], [3]):
        path.write_text(json.dumps({"documents": [{**entry, "also_asked": bad}]}))
        with pytest.raises(KnowledgeError, match=r"\(a\): also_asked must be a list"):
            load_faq(path)


PAUSE = FaqEntry("pause", "account", "Can I pause my subscription?",
                 "Yes, you can pause your subscription for up to three months. Your data is kept while paused.")
CANCEL = FaqEntry("cancel", "account", "How do I cancel my subscription?",
                  "Go to Settings, then Billing, and choose Cancel subscription.")


def test_a_caller_is_matched_by_any_wording_of_the_question(tmp_path, embedder):
    said = "can i like freeze my account for the summer"
    kb = KnowledgeBase(tmp_path / "chroma", embedder)
    kb.ingest([PAUSE, CANCEL])
    alone = {hit.entry.id: hit.score for hit in kb.search(said, k=2)}
    worded = replace(PAUSE, also_asked=("Can I freeze my account for a while instead of cancelling?",))
    report = kb.ingest([worded, CANCEL])
    assert (report.updated, kb.count) == (1, 5)  # the entry's three vectors, two of the other
    hits = kb.search(said, k=2)
    assert hits[0].entry.id == "pause" and hits[0].score > alone["pause"] + 0.1, (alone, hits)
    assert hits[0].entry.also_asked == worded.also_asked
    assert {hit.entry.id: hit.score for hit in hits}["cancel"] == alone["cancel"]
    kb.ingest([PAUSE, CANCEL])  # the wording taken out again: its vector goes too
    assert kb.count == 4 and kb.search(said, k=1)[0].score == alone["pause"]


def test_ingest_is_idempotent_and_only_reembeds_changes(tmp_path, embedder):
    counting = CountingEmbedder(embedder)
    kb = KnowledgeBase(tmp_path / "chroma", counting)
    entries = load_faq()
    first = kb.ingest(entries)
    assert (first.added, first.updated, first.deleted) == (len(entries), 0, 0)
    counting.embedded = 0
    again = kb.ingest(entries)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, len(entries))
    assert counting.embedded == 0
    changed = [FaqEntry(e.id, e.category, e.question, e.answer + " Changed.") if e.id == "faq-012" else e
               for e in entries if e.id != "faq-055"]
    report = kb.ingest(changed)
    assert (report.added, report.updated, report.deleted) == (0, 1, 1)
    assert counting.embedded == 2  # question and question+answer of the one changed entry
    assert kb.search("how much does byteai cost", k=1)[0].entry.answer.endswith("Changed.")


def test_opening_with_another_embedding_model_is_a_clear_error(tmp_path, embedder):
    KnowledgeBase(tmp_path / "chroma", embedder).ingest(load_faq()[:3])
    with pytest.raises(EmbeddingModelMismatch, match="kb ingest --rebuild"):
        KnowledgeBase(tmp_path / "chroma", CountingEmbedder(embedder, model_id="some-other-model"))


def test_retrieval_quality_on_caller_phrasings(runtime):
    report = evaluate(runtime.knowledge, load_questions())
    assert report.total >= 48
    assert report.top1 >= 0.90, report.misses
    assert report.top3 >= 0.97, report.misses
    assert report.no_answer_correct >= 0.875, report.misses


def test_retrieval_on_the_held_out_questions_holds_its_measured_floor(runtime):
    # Written from the FAQ alone and never tuned on; measured 91.4% top-1, 90.0% answered with a right entry and
    # 60% no-answer (2026-11-29), 98.6%, 95.7% and 60% once the entries had other wordings (also_asked): the
    # floor catches a change that loses several of them, not one line's noise.
    questions = load_questions(HELD_OUT_EVAL)
    assert len(questions) == 90 and any(isinstance(q["expected"], list) for q in questions)
    report = evaluate(runtime.knowledge, questions)
    assert report.top1 >= 0.87, report.misses
    assert report.answered_correctly >= 0.85, report.misses
    assert report.no_answer_correct >= 0.5, report.misses


@pytest.mark.parametrize(("said", "query"), [
    ("I keep getting error four two nine", "i keep getting error 429"), ("a four twenty nine error", "a 429 error"),
    ("status code four oh four", "status code 404"), ("can I book at two thirty", "can i book at two thirty"),
    ("one or two things", "one or two things")])
def test_an_error_code_said_in_words_is_searched_in_digits(said, query):
    assert clean_query(said) == query


def test_results_are_cached_for_five_minutes(tmp_path, embedder):
    now = [0.0]
    counting = CountingEmbedder(embedder)
    kb = KnowledgeBase(tmp_path / "chroma", counting, clock=lambda: now[0])
    kb.ingest(load_faq()[:5])
    kb.search("how much is pro")
    kb._query_vectors.clear()  # only the result cache may answer now
    counting.embedded = 0
    kb.search("How much is Pro?")  # same question once normalized
    assert counting.embedded == 0
    now[0] = 301.0
    kb.search("how much is pro")
    assert counting.embedded == 1


@pytest.fixture
async def embeddings_emulator():
    from voiceagent.emulators.openai_embeddings import OpenAIEmbeddingsEmulator
    from voiceagent.emulators.run import serve_app

    emulator = OpenAIEmbeddingsEmulator()
    runner, url = await serve_app(emulator.app())
    emulator.url = url + "/v1"
    yield emulator
    await runner.cleanup()


async def test_openai_embeddings_through_the_sdk_survive_rate_limits_and_outages(tmp_path, embeddings_emulator):
    import asyncio

    from voiceagent.providers.openai import OpenAIEmbedder

    embedder = OpenAIEmbedder("test-key", base_url=embeddings_emulator.url)
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    embeddings_emulator.fail_next = 1  # a 429 during ingestion is retried by the SDK
    report = await asyncio.to_thread(kb.ingest, load_faq())
    assert report.added == len(load_faq()) and kb.count > 0
    assert embeddings_emulator.requests[0]["model"] == "text-embedding-3-small"
    embeddings_emulator.fail_next, embeddings_emulator.fail_status = 1, 429
    assert "$299" in (await asyncio.to_thread(kb.best_answer, "How much is the Business plan?")).entry.answer
    embeddings_emulator.fail_next, embeddings_emulator.fail_status = 10, 500  # down for longer than the retries
    assert await asyncio.to_thread(kb.search, "Do you offer refunds?") == []  # no answer, no exception
    assert kb.search_failures == 1


def test_names_the_embedding_lacks_point_to_the_entries_that_mention_them(embedder):
    entries = [FaqEntry("a", "features", "Which integrations?", "We connect with Slack, HubSpot and Zendesk."),
               FaqEntry("b", "privacy", "Are you GDPR compliant?", "Yes. Phone support is open Monday to Friday.")]
    index = name_index(entries, embedder.knows_word)
    # Slack is one word piece of the embedding's vocabulary; weekdays are never a topic.
    assert set(index) == {"hubspot", "zendesk", "gdpr"} and index["hubspot"] == {"a"}
    assert set(name_index(entries)) == {"hubspot", "gdpr"}  # without a vocabulary: inner capitals, acronyms
    assert names_in("does it work with hub spot or zendesk", index) == {"hubspot", "zendesk"}


def test_a_product_named_by_two_capitalised_words_is_a_name(embedder):
    # "Microsoft Teams": the embedding knows both words (the team-seats entry came first for "what about microsoft
    # teams"); together they name a product one entry mentions. A sentence's first word starts no such name.
    entries = [FaqEntry("a", "features", "Which integrations?", "We connect with Slack, Microsoft Teams and Google "
                        "Workspace. Team seats are five."),
               FaqEntry("b", "account", "How do I add team members?", "Open Settings, then Team. Pro has five seats.")]
    index = name_index(entries, embedder.knows_word)
    assert index["microsoft teams"] == {"a"} and index["google workspace"] == {"a"}
    assert "open settings" not in index and "team pro" not in index
    assert names_in("what about microsoft teams", index) == {"microsoft teams"}


@pytest.mark.parametrize(("question", "expected"), [
    ("does it work with hubspot", "faq-004"), ("can i use it with zendesk", "faq-004"),
    ("how do i connect my zendesk", "faq-004"),  # 0.30 with the name's boost: under the bar for other entries
    ("tell me a joke about python", None), ("i forgot my keys in the car", None)])
def test_a_named_integration_is_answered_and_everyday_words_are_not_names(runtime, question, expected):
    # "does it work with hubspot" was closest to the Slack entry (0.21): "I'm not sure about that one".
    best = runtime.knowledge.best_answer(question)
    assert (best.entry.id if best else None) == expected


def test_rare_words_an_entry_shares_with_the_question_count_and_common_ones_do_not():
    entries = [FaqEntry("sso", "security", "Does ByteAI support single sign-on?", "Yes, on the Business plan."),
               FaqEntry("pro", "pricing", "How much is the Pro plan?", "The Pro plan is $99 per month."),
               FaqEntry("biz", "pricing", "How much is the Business plan?", "The Business plan is $299 per month.")]
    index = LexicalIndex(entries)
    asked = words_of("Does the Pro plan come with single sign on?")
    assert "singl" in asked and "does" not in asked and words_of("emails") == {"email"}
    assert words_of("upgrading") == words_of("upgrade") == words_of("upgraded")  # one word, however it ends
    assert index.overlap(asked, "sso") > index.overlap(asked, "pro") > 0  # "plan" is in every entry: it weighs least
    assert index.overlap(words_of("um the and"), "sso") == 0.0


@pytest.mark.parametrize(("question", "expected"), [
    ("how many requests per minute do we get on pro", "faq-026"),  # the Pro plan's price came first, 0.589 to 0.582
    ("can i pay with a check", "faq-020"),  # the refund answer came first, 0.45 to 0.40
])
def test_a_question_whose_rare_words_only_one_entry_has_gets_that_entry(runtime, question, expected):
    assert runtime.knowledge.search(question, k=1)[0].entry.id == expected


@pytest.mark.parametrize(("question", "feature"), [
    ("does the pro plan come with single sign on", "single sign on"), ("so do you support webhooks", "webhooks"),
    ("does that include phone support", "phone support"), ("and the pro plan does it have that too", ""),
    ("how much is the pro plan", ""), ("is there a setup fee", "setup fee"), ("what does it come with", ""),
    ("is byteai hipaa compliant", "hipaa compliant"), ("im an accountant does it hook up to quickbooks", "quickbooks")])
def test_the_feature_a_yes_or_no_question_asks_about(question, feature):
    assert asked_feature(clean_query(question)) == feature


@pytest.mark.parametrize(("question", "expected"), [
    ("does the pro plan come with single sign on", "faq-030"),  # the Pro plan's price came first, 0.552 to 0.488
    ("does that include like phone support", "faq-052"),  # the mobile app came first, 0.394
])
def test_a_yes_or_no_question_about_a_feature_gets_the_features_entry(runtime, question, expected):
    assert runtime.knowledge.best_answer(question).entry.id == expected


@pytest.mark.parametrize(("question", "expected"), [
    ("does byteai work with whatsapp", None),  # the Slack entry's "Yes, install the ByteAI app in Slack", 0.54
    ("im an accountant does it hook up to quickbooks", None),
    ("is byteai hipaa compliant we are a clinic", None),  # "Yes, ByteAI is GDPR and CCPA compliant", 0.61
    ("does the api support webhooks for like new conversations", "faq-027"),  # "webhooks": the FAQ's word
    ("do you have a python sdk", "faq-025"), ("does it work with hubspot", "faq-004"),
])
def test_a_feature_named_by_a_word_neither_the_faq_nor_the_embedding_knows_is_not_answered(runtime, question,
                                                                                             expected):
    best = runtime.knowledge.best_answer(question)
    assert (best.entry.id if best else None) == expected


def test_an_empty_knowledge_base_answers_nothing_and_the_commands_say_to_ingest(tmp_path, embedder, monkeypatch):
    from typer.testing import CliRunner

    from tests.observability.test_logging import restore_default_logging
    from voiceagent.cli import app

    kb = KnowledgeBase(tmp_path / "chroma", embedder)
    # A yes-or-no feature question searches twice (the question, then the feature): it raised on an empty store.
    for question in ("does the Pro plan come with single sign-on?", "How much is the Pro plan?"):
        assert kb.search(question) == [] and kb.best_answer(question) is None
    monkeypatch.chdir(tmp_path)
    try:
        results = [CliRunner().invoke(app, ["kb", *command], env={"DATA_DIR": str(tmp_path / "empty")})
                   for command in (["eval"], ["search", "pro plan price"])]
    finally:
        restore_default_logging()
    for result in results:
        assert result.exit_code == 2 and "voiceagent kb ingest" in result.output, result.output


def test_kb_eval_scores_the_held_out_questions_from_the_command_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tests.observability.test_logging import restore_default_logging
    from voiceagent.cli import app

    monkeypatch.chdir(tmp_path)
    env = {"DATA_DIR": str(tmp_path / "data")}
    try:
        assert CliRunner().invoke(app, ["kb", "ingest"], env=env).exit_code == 0
        result = CliRunner().invoke(app, ["kb", "eval", "--held-out"], env=env)
    finally:
        restore_default_logging()
    assert result.exit_code == 0, result.output
    assert "questions: 90" in result.output and "no-answer" in result.output


def test_a_feature_question_keeps_the_entry_that_already_has_the_feature(runtime):
    # "slack" alone is nearest the Slack troubleshooting entry; the Slack entry itself has the word too
    assert runtime.knowledge.best_answer("hello does it work with slack").entry.id == "faq-005"
