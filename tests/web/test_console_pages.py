"""The console's pages and what they compute: filters, percentiles, the stage waterfall, redacted tool calls."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from types import SimpleNamespace

from tests.web.conftest import CALL_SID, local_client, store_call
from voiceagent.shared.redact import redact_value
from voiceagent.web.views import percentile, summarize, waterfall


def test_percentiles_are_nearest_rank():
    values = [0.9, 0.5, 1.2, 0.7, 3.0]
    assert percentile(values, 0.5) == 0.9
    assert percentile(values, 0.95) == 3.0
    assert percentile([0.8], 0.95) == 0.8
    assert percentile([], 0.5) is None


def test_the_waterfall_runs_from_the_end_of_speech_through_the_stages_that_happened():
    stages = waterfall({"caller_speech_end": 100.0, "stt_final": 100.4, "end_of_turn": 100.5,
                        "retrieval_done": None, "brain_first_text": 100.7, "first_audio_sent": 101.1})
    assert [(s.name, round(s.start, 2), round(s.end, 2)) for s in stages] == [
        ("stt_final", 0.0, 0.4), ("end_of_turn", 0.4, 0.5), ("brain_first_text", 0.5, 0.7),
        ("first_audio_sent", 0.7, 1.1)]
    assert waterfall({"first_audio_sent": 3.0}) == []  # no end of speech: nothing to measure from


def test_a_row_with_broken_json_still_lists():
    row = SimpleNamespace(call_sid="CA1", caller="***12", outcome="failed", started_at=datetime(2026, 1, 2, 3, 4, 5),
                          ended_at=None, turns="not json", tool_calls='{"a": 1}')
    summary = summarize(row)
    assert summary.tools == [] and summary.latencies == [] and summary.duration_secs is None
    assert summary.started_at.tzinfo is timezone.utc and summary.via == "phone"


def test_tool_arguments_and_results_are_stored_without_names_or_numbers():
    arguments = {"date": "friday", "time": "10 am", "name": "Maria Lopez", "phone": "+1 555 123 4567"}
    result = {"ok": True, "appointments": [{"id": 3, "name": "Maria Lopez", "starts_at": "2026-01-02T10:00:00-05:00"}],
              "message": "Booked for Maria, she can be reached at 555-987-6543.", "count": 2, "transferred": False}
    stored = redact_value(arguments, {"Maria Lopez"}), redact_value(result, {"Maria Lopez"})
    assert stored[0] == {"date": "friday", "time": "10 am", "name": "[name]", "phone": "***67"}
    assert stored[1]["appointments"] == [{"id": 3, "name": "[name]", "starts_at": "2026-01-02T10:00:00-05:00"}]
    assert "Maria" not in stored[1]["message"] and "6543" not in stored[1]["message"]
    assert stored[1]["count"] == 2 and stored[1]["transferred"] is False
    assert len(redact_value("x" * 2000)) <= 501


def test_the_list_filters_by_outcome_and_day(web_app):
    app = web_app()
    database = app.state.agent.runtime.database
    store_call(database, "CAcompletedtoday", outcome="completed")
    store_call(database, "CAfailedlongago", outcome="failed",
               started_at=datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc).timestamp())
    with local_client(app) as client:
        everything = client.get("/console").text
        completed = client.get("/console?outcome=completed").text
        march = client.get("/console?from=2025-03-01&to=2025-03-01").text
        since_then = client.get(f"/console?from={time.strftime('%Y-%m-%d', time.gmtime())}").text
        bad_date = client.get("/console?from=yesterday").text
    listed = lambda html: set(re.findall(r'data-call-sid="([^"]+)"', html))  # noqa: E731
    assert listed(everything) == {CALL_SID, "CAcompletedtoday", "CAfailedlongago"}
    assert listed(completed) == {"CAcompletedtoday"}
    assert listed(march) == {"CAfailedlongago"}
    assert listed(since_then) == {CALL_SID, "CAcompletedtoday"}
    assert "Dates are YYYY-MM-DD" in bad_date
    assert '<option value="failed"' in everything  # the outcomes stored are the filter's choices


def test_a_calls_page_shows_said_versus_heard_tools_and_the_latency_waterfall(web_app):
    with local_client(web_app()) as client:
        page = client.get(f"/console/calls/{CALL_SID}").text
        missing = client.get("/console/calls/CAnosuchcall")
    unheard = re.findall(r'class="text unheard"[^>]*>([^<]+)<', page)
    assert unheard == ["How can I help you today?"]
    assert re.search(r'class="text"[^>]*>Hello! Thanks for calling.<', page)
    assert "escalate_to_human" in page and "wants a person" in page and "ticket_id" in page
    assert "p50 0.90 s" in page and "p95 1.50 s" in page  # the two turns' latencies
    assert page.count('class="stage ') == 6 + 3  # six stages in turn 1, three in turn 2
    assert "Recording" not in page  # no recording of this call: no player
    assert missing.status_code == 404

