"""The softphone's event channel: what a watcher of a running call is sent, and what a call pays for it."""

from __future__ import annotations

import json
import time

from tests.web.conftest import local_client
from voiceagent.observability.live import LiveCalls
from voiceagent.shared.record import CallRecord, TurnTiming
from voiceagent.web.events import LiveFeed, call_events


def _record(call_sid: str = "WBcall") -> CallRecord:
    return CallRecord(call_sid=call_sid, stream_sid="MZstream", caller="browser")


def test_a_watcher_gets_new_lines_a_changed_heard_flag_and_each_turn_once():
    record = _record()
    feed = LiveFeed(record)
    record.agent_sent("Hello! Thanks for calling.")
    record.agent_sent("How can I help you today?")
    first = feed.changes()
    record.agent_heard("Hello! Thanks for calling.")
    record.agent_unheard("How can I help you today?")
    record.caller_said("My name is Maria Lopez, call me on 555 123 4567.")
    now = time.monotonic()
    record.turns.append(TurnTiming(caller_speech_end=now, stt_final=now + 0.3, end_of_turn=now + 0.4,
                                   brain_first_text=now + 0.5, first_audio_sent=now + 0.9))
    second = feed.changes()
    assert [(e["type"], e["index"], e["heard"]) for e in first] == [("line", 0, None), ("line", 1, None)]
    lines = [e for e in second if e["type"] == "line"]
    assert [(e["index"], e["heard"]) for e in lines] == [(0, True), (1, False), (2, None)]
    assert "Maria" not in lines[2]["text"] and "123 4567" not in lines[2]["text"]  # redacted as stored
    (turn,) = [e for e in second if e["type"] == "turn"]
    assert abs(turn["latency"] - 0.9) < 1e-6
    assert [s["name"] for s in turn["stages"]] == ["stt_final", "end_of_turn", "brain_first_text",
                                                   "first_audio_sent"]
    assert abs(turn["speech_end_at"] - time.time()) < 5  # placed on the transcript's wall clock
    assert feed.changes() == []


def test_a_name_learnt_later_is_masked_in_lines_sent_before():
    record = _record()
    feed = LiveFeed(record)
    record.caller_said("Book it for Jonas Berg please")
    assert "Jonas" in feed.changes()[0]["text"]
    record.personal_names.add("Jonas Berg")  # a tool was given the name
    (again,) = feed.changes()
    assert again["index"] == 0 and "Jonas" not in again["text"]


async def test_the_event_stream_follows_the_call_from_start_to_outcome():
    live, record = LiveCalls(), _record()
    events = call_events(live, "WBcall", poll_secs=0.01)
    waiting = events.__anext__()
    live.add(record)  # the media stream's `start` arrives
    assert (await waiting)["type"] == "started"
    record.agent_sent("Hello!")
    assert (await events.__anext__())["text"] == "Hello!"
    record.caller_said("Bye")
    record.outcome, record.ended_at = "caller_hung_up", record.started_at + 12.5
    live.remove(record)
    rest = [event async for event in events]
    assert [e["type"] for e in rest] == ["line", "ended"]
    assert rest[-1]["outcome"] == "caller_hung_up" and rest[-1]["duration"] == 12.5


async def test_a_call_that_never_starts_ends_the_stream():
    events = [e async for e in call_events(LiveCalls(), "WBnever", start_timeout_secs=0.05, poll_secs=0.01)]
    assert events == [{"type": "ended", "call_sid": "WBnever", "outcome": "not_started", "duration": None}]


def test_a_call_nobody_watches_only_enters_and_leaves_the_live_list():
    live, record = LiveCalls(), _record()
    live.add(record)
    record.agent_sent("Hello!")
    assert live.get("WBcall") is record and live.is_running(record)
    live.remove(record)
    assert len(live) == 0 and live.get("WBcall") is None


def test_the_page_that_placed_a_call_reads_its_events_over_sse(web_app):
    app = web_app()
    live: LiveCalls = app.state.agent.live
    received: list[dict] = []
    with local_client(app) as client:
        answer = client.post("/phone/call").json()
        record = _record(answer["call_sid"])
        live.add(record)  # the call has started
        record.agent_sent("Hello! Thanks for calling.")
        with client.stream("GET", answer["events_path"]) as response:
            content_type = response.headers["content-type"]
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                if received and received[-1]["type"] == "line":  # the caller hangs up
                    record.outcome, record.ended_at = "completed", time.time()
                    live.remove(record)
    assert content_type.startswith("text/event-stream")
    assert [e["type"] for e in received] == ["started", "line", "ended"]
    assert received[1]["text"] == "Hello! Thanks for calling." and received[2]["outcome"] == "completed"
