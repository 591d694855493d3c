"""The local cluster check (`make cluster-test`): three instances behind nginx share one state, and survive a crash.

Starts a throw-away PostgreSQL, Redis, a Chroma server, the Secret Manager emulator, three `voiceagent serve`
processes and nginx (all on 127.0.0.1), then checks:
  - the knowledge base the three ingested at once holds each entry once;
  - real-time calls through nginx land on every instance;
  - 20 bookings of one slot at once from three instances' database pools: exactly one wins, the others are
    offered other times, and a real call through nginx asking for that slot hears it is taken;
  - the calls-per-number limit holds across instances;
  - an instance killed mid-call ends its call, the others' calls go on, new calls go to the living instances.
Prints one line of figures and exits non-zero on any violation; stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import select

from tests.cluster.agents import SECRETS, Agent, agents, log_tail, secret_manager
from tests.cluster.services import chroma_server, nginx_balancer, redis_server
from tests.storage.postgres import postgres_cluster
from voiceagent.knowledge import load_faq
from voiceagent.simulate.caller import CallResult
from voiceagent.simulate.run import twilio_call
from voiceagent.simulate.webhook import answer_call
from voiceagent.storage import Appointment, CallRecordRow, Database
from voiceagent.tools.appointments import book_appointment
from voiceagent.tools.context import ToolContext

INSTANCES = 3
PER_NUMBER_LIMIT = 4
RACERS = 20
FAQ_CALL = ["Hi, how much does the Pro plan cost?"]
LONG_CALL = ["Hi, what can you help me with?", "How much does the Pro plan cost?", "And what about the Business plan?"]
BOOK_CALL = ["I'd like to book an appointment.", "Next Tuesday at ten thirty in the morning."]
SLOT = ("next Tuesday", "10:30 am")


class Check:
    """Violations and figures collected as the checks run."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.figures: dict[str, object] = {}

    def expect(self, ok: bool, violation: str) -> bool:
        if not ok:
            self.violations.append(violation)
            print(f"VIOLATION: {violation}", file=sys.stderr, flush=True)
        return ok


def completed(result: CallResult, turns: int) -> bool:
    """Every caller turn was spoken and answered, and the caller (not a dropped line) ended the call."""
    return (not result.refused and len(result.turns) == turns and all(t.latency is not None for t in result.turns)
            and not result.hung_up_by_agent)


def new_number() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]


async def place(url: str, lines: list[str], voice_lines: dict, number: str | None = None) -> CallResult:
    return await twilio_call(url, [voice_lines[line] for line in lines], caller_number=number or new_number(),
                             auth_token=SECRETS["twilio-auth-token"])


async def calls_per_instance(instances: list[Agent]) -> list[float]:
    return [await asyncio.to_thread(agent.calls_total) if agent.alive else 0.0 for agent in instances]


async def check_calls_land_everywhere(check: Check, media_url: str, instances: list[Agent], voice_lines) -> None:
    results = await asyncio.gather(*(place(media_url, FAQ_CALL, voice_lines) for _ in range(INSTANCES)))
    results += await asyncio.gather(*(place(media_url, FAQ_CALL, voice_lines) for _ in range(INSTANCES)))
    per_instance = await calls_per_instance(instances)
    check.figures["calls_per_instance"] = "/".join(f"{count:.0f}" for count in per_instance)
    check.figures["calls_ok"] = f"{sum(completed(r, len(FAQ_CALL)) for r in results)}/{len(results)}"
    check.expect(all(completed(r, len(FAQ_CALL)) for r in results), f"calls through nginx failed: "
                 f"{[(r.refused, len(r.turns), r.close_code) for r in results if not completed(r, len(FAQ_CALL))]}")
    check.expect(all(count >= 1 for count in per_instance), f"an instance took no call: {per_instance}")


async def check_one_booking_wins(check: Check, database_url: str, media_url: str, voice_lines) -> None:
    pools = [Database(database_url) for _ in range(INSTANCES)]  # one connection pool per instance
    try:
        async def racer(index: int) -> dict:
            ctx = ToolContext(database=pools[index % INSTANCES], caller_phone=f"+1555010{index:04d}",
                              call_sid=f"CA{uuid.uuid4().hex}")
            return await book_appointment(ctx, SLOT[0], SLOT[1], name=f"Racer {index}")

        results = await asyncio.gather(*(racer(i) for i in range(RACERS)))
        won = [r for r in results if r.get("ok")]
        offered = [r for r in results if r.get("error") == "slot_taken" and r.get("alternatives")]
        check.figures["bookings_won"] = f"{len(won)}/{RACERS}"
        check.figures["offered_other_times"] = len(offered)
        check.expect(len(won) == 1, f"{len(won)} of {RACERS} bookings of one slot succeeded")
        check.expect(len(offered) == RACERS - 1, f"only {len(offered)} losers were offered other times")
        with pools[0].session() as session:
            rows = session.scalars(select(Appointment).where(Appointment.status == "booked")).all()
        check.expect(len(rows) == 1, f"{len(rows)} booked rows for one slot")

        # A real caller through nginx asks for the same slot: the agent on whichever instance says it is taken.
        result = await place(media_url, BOOK_CALL, voice_lines)
        await asyncio.sleep(1.0)  # the call's record is written as its stream ends
        with pools[0].session() as session:
            row = session.scalars(select(CallRecordRow).where(CallRecordRow.call_sid == result.call_sid)).first()
        said = " ".join(e["text"] for e in json.loads(row.transcript) if e["role"] == "agent") if row else ""
        check.figures["booking_call"] = "told taken" if "already taken" in said else "not told"
        check.expect("already taken" in said and "free times" in said,
                     f"the real booking call was not offered other times: {said[-300:]!r}")
    finally:
        for pool in pools:
            pool.engine.dispose()


async def check_number_limit(check: Check, media_url: str) -> None:
    number, answers = new_number(), []
    for _ in range(PER_NUMBER_LIMIT + 2):  # round-robin webhooks: each instance answers some of them
        answers.append(await answer_call(media_url, call_sid=f"CA{uuid.uuid4().hex}", caller_number=number,
                                         auth_token=SECRETS["twilio-auth-token"]))
    connected = sum(1 for a in answers if a and a.stream_url)
    check.figures["per_number"] = f"{connected} allowed/{len(answers) - connected} refused"
    check.expect(connected == PER_NUMBER_LIMIT, f"{connected} calls from one number connected (limit "
                 f"{PER_NUMBER_LIMIT} an hour across instances)")


async def check_crash(check: Check, media_url: str, instances: list[Agent], voice_lines) -> None:
    before = await calls_per_instance(instances)
    calls = [asyncio.create_task(place(media_url, LONG_CALL, voice_lines)) for _ in range(INSTANCES)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        active = [await asyncio.to_thread(agent.active_calls) for agent in instances]
        if sum(active) >= INSTANCES:
            break
        await asyncio.sleep(0.2)
    victim = next((agent for agent, n in zip(instances, active) if n == 1), None) or max(
        instances, key=lambda agent: active[agent.index])
    on_victim = active[victim.index]
    await asyncio.sleep(3.0)  # mid-call: the greeting is out, the first turn under way
    await asyncio.to_thread(victim.kill)
    results = await asyncio.gather(*calls)
    cut = [r for r in results if not completed(r, len(LONG_CALL))]
    check.figures["killed"] = f"#{victim.index} with {on_victim} call(s)"
    check.figures["after_kill"] = f"{len(results) - len(cut)} completed/{len(cut)} cut"
    check.expect(on_victim >= 1 and len(cut) == on_victim,
                 f"killing an instance with {on_victim} call(s) cut {len(cut)} of the calls")
    # New calls go to the living instances (nginx skips the dead one), and all of them complete.
    living = [agent for agent in instances if agent.alive]
    later = await asyncio.gather(*(place(media_url, FAQ_CALL, voice_lines) for _ in range(INSTANCES)))
    after = await calls_per_instance(instances)
    new_on_living = sum(after[a.index] - before[a.index] for a in living)
    check.figures["new_calls_after_kill"] = f"{sum(completed(r, len(FAQ_CALL)) for r in later)}/{len(later)}"
    check.expect(all(completed(r, len(FAQ_CALL)) for r in later), "a call after the crash failed")
    check.expect(new_on_living >= len(results) - len(cut) + len(later),
                 f"living instances counted {new_on_living} calls, expected {len(results) - len(cut) + len(later)}")


def caller_lines() -> dict:
    from voiceagent.providers.piper import load_piper_voice
    from voiceagent.simulate.run import parse_turns
    from voiceagent.simulate.voices import CallerVoice

    voice = CallerVoice(load_piper_voice())
    lines = sorted(set(FAQ_CALL + LONG_CALL + BOOK_CALL))
    return dict(zip(lines, parse_turns(lines, [], voice)))


async def run_checks(check: Check, database_url: str, media_url: str, instances: list[Agent], chroma_url: str) -> None:
    from voiceagent.knowledge.store import COLLECTION, chroma_client

    stored = chroma_client(Path("."), chroma_url).get_collection(COLLECTION).count()
    expected = sum(len(entry.questions) + 1 for entry in load_faq())  # each wording, and question + answer
    check.expect(stored == expected, f"the shared knowledge base holds {stored} vectors, expected {expected} (one "
                 f"per wording and one of question + answer per entry, ingested by {INSTANCES} instances at once)")
    voice_lines = await asyncio.to_thread(caller_lines)
    await check_calls_land_everywhere(check, media_url, instances, voice_lines)
    await check_one_booking_wins(check, database_url, media_url, voice_lines)
    await check_number_limit(check, media_url)
    await check_crash(check, media_url, instances, voice_lines)


def run(start_timeout: float = 300.0) -> Check:
    check = Check()
    began = time.monotonic()
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="voiceagent-cluster-")))
        postgres = stack.enter_context(postgres_cluster())
        database_url = postgres.new_database()
        redis_url = stack.enter_context(redis_server(directory))
        chroma_url = stack.enter_context(chroma_server(directory))
        _, secrets_url = stack.enter_context(secret_manager())
        shared = {
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "CHROMA_URL": chroma_url,
            "SECRETS_BACKEND": "gcp", "GCP_PROJECT": "voiceagent-test", "GCP_SECRETS_ENDPOINT": secrets_url,
            "GCP_SECRETS": "TWILIO_AUTH_TOKEN,STREAM_TOKEN_SECRET,METRICS_TOKEN",
            "TRUSTED_PROXIES": "127.0.0.1", "CALLS_PER_NUMBER_PER_HOUR": str(PER_NUMBER_LIMIT),
            "MAX_CONCURRENT_CALLS": "30", "RATE_LIMIT_PER_MINUTE": "1000", "DRAIN_SECS": "5",
            "SHUTDOWN_GRACE_SECS": "2", "WHISPER_THREADS": "1", "LOG_LEVEL": "INFO",
            "STT_PROVIDER": "embedded", "LLM_PROVIDER": "embedded", "TTS_PROVIDER": "embedded",
            "EMBEDDINGS_PROVIDER": "embedded",
        }
        instances = stack.enter_context(agents(directory, INSTANCES, shared, start_timeout))
        check.figures["start_up_s"] = round(time.monotonic() - began)
        balancer = stack.enter_context(nginx_balancer(directory, [agent.port for agent in instances]))
        media_url = balancer.replace("http://", "ws://") + "/ws/media"
        try:
            asyncio.run(run_checks(check, database_url, media_url, instances, chroma_url))
        except Exception as error:  # a crashed check is a violation with its cause, not a silent pass
            check.expect(False, f"{type(error).__name__}: {error}")
            for agent in instances:
                print(f"--- agent {agent.index} log tail ---\n{log_tail(agent)}", file=sys.stderr)
    check.figures["total_s"] = round(time.monotonic() - began)
    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start-timeout", type=float, default=300.0, help="seconds for the instances to start")
    args = parser.parse_args(argv)
    check = run(args.start_timeout)
    figures = ", ".join(f"{key}={value}" for key, value in check.figures.items())
    print(f"cluster: {figures}, failures={len(check.violations)}", flush=True)
    return 1 if check.violations else 0


if __name__ == "__main__":
    sys.exit(main())
