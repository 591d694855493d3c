"""`voiceagent eval scenarios`: a business's caller scenarios (YAML) run as real calls over Media Streams,
checked against what the agent said (transcribed at the caller), its latency, and the stored call record."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import yaml

from voiceagent.evals.text import normalise
from voiceagent.simulate.audio import read_wav
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import CallReport

TURN_KEYS = {"say", "wav", "says", "not_says", "within"}
SCENARIO_KEYS = {"name", "voice", "caller", "turns", "tools", "outcome"}


class ScenarioError(ValueError):
    """A scenario file that cannot be run, with where and why."""


@dataclass
class TurnSpec:
    say: str = ""
    wav: Path | None = None
    says: list[str] = field(default_factory=list)  # each: phrases separated by "|", any of them will do
    not_says: list[str] = field(default_factory=list)
    within: float | None = None  # latency budget, end of caller speech -> first agent audio


@dataclass
class Scenario:
    name: str
    turns: list[TurnSpec]
    voice: str = "piper"
    caller: str = "+15550100"
    tools: list[dict] = field(default_factory=list)  # {name, arguments (subset), called (default true)}
    outcome: str | None = None


@dataclass
class Check:
    scenario: str
    what: str
    passed: bool
    detail: str = ""


def _strings(value, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ScenarioError(f"{where}: expected a phrase or a list of phrases")


def load_scenarios(path: Path) -> list[Scenario]:
    """Parse and check a scenario file; every mistake names the scenario and turn."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: {error}") from error
    items = data.get("scenarios") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ScenarioError(f"{path}: expected a top-level 'scenarios:' list")
    scenarios = []
    for number, item in enumerate(items, 1):
        where = f"{path}: scenario {number}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ScenarioError(f"{where}: each scenario needs a name")
        where = f"{path}: scenario '{item['name']}'"
        if unknown := set(item) - SCENARIO_KEYS:
            raise ScenarioError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(SCENARIO_KEYS)})")
        turns = []
        for index, raw in enumerate(item.get("turns") or [], 1):
            at = f"{where}, turn {index}"
            if not isinstance(raw, dict) or bool(raw.get("say")) == bool(raw.get("wav")):
                raise ScenarioError(f"{at}: give exactly one of 'say' (text) or 'wav' (a file)")
            if unknown := set(raw) - TURN_KEYS:
                raise ScenarioError(f"{at}: unknown keys {sorted(unknown)} (allowed: {sorted(TURN_KEYS)})")
            wav = Path(path).parent / raw["wav"] if raw.get("wav") else None
            within = raw.get("within")
            if within is not None and not isinstance(within, (int, float)):
                raise ScenarioError(f"{at}: 'within' is a number of seconds")
            turns.append(TurnSpec(say=str(raw.get("say") or ""), wav=wav, says=_strings(raw.get("says"), at),
                                  not_says=_strings(raw.get("not_says"), at), within=within))
        if not turns:
            raise ScenarioError(f"{where}: no turns")
        tools = item.get("tools") or []
        if not isinstance(tools, list) or not all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in tools):
            raise ScenarioError(f"{where}: 'tools' is a list of {{name, arguments}}")
        scenarios.append(Scenario(name=item["name"], turns=turns, voice=str(item.get("voice") or "piper"),
                                  caller=str(item.get("caller") or "+15550100"), tools=tools,
                                  outcome=item.get("outcome")))
    return scenarios


def caller_turns(scenario: Scenario, voice) -> list[CallerTurn]:
    return [CallerTurn(audio=voice.say(turn.say), text=turn.say) if turn.say else
            CallerTurn(audio=read_wav(turn.wav), text=f"<{turn.wav.name}>") for turn in scenario.turns]


def replies_per_turn(report: CallReport) -> list[str]:
    """What the agent said after each caller turn, up to the next one (its transcribed speech)."""
    ends = [turn.speech_end for turn in report.result.turns] + [float("inf")]
    replies = []
    for start, end in zip(ends, ends[1:]):
        replies.append(" ".join(text for speech, text in zip(report.result.agent, report.agent_texts)
                                if start <= speech.started < end))
    return replies


def _mentions(text: str, phrases: str) -> bool:
    return any(normalise(phrase) in text for phrase in phrases.split("|"))


def check_call(scenario: Scenario, report: CallReport, record: dict | None) -> list[Check]:
    """Every expectation of the scenario against the call; `record` is the stored call record, None when the
    server is remote (tool and outcome checks are then reported as not checkable, and fail)."""
    checks: list[Check] = []
    replies = replies_per_turn(report)
    for index, (spec, turn) in enumerate(zip(scenario.turns, report.result.turns), 1):
        heard = normalise(replies[index - 1])
        for phrase in spec.says:
            checks.append(Check(scenario.name, f"turn {index} says '{phrase}'", _mentions(heard, phrase),
                                f"heard: {replies[index - 1][:160]!r}"))
        for phrase in spec.not_says:
            checks.append(Check(scenario.name, f"turn {index} does not say '{phrase}'", not _mentions(heard, phrase),
                                f"heard: {replies[index - 1][:160]!r}"))
        answered = turn.latency is not None
        checks.append(Check(scenario.name, f"turn {index} answered", answered, "" if answered else "no agent audio"))
        if spec.within is not None and answered:
            checks.append(Check(scenario.name, f"turn {index} within {spec.within:.1f} s", turn.latency <= spec.within,
                                f"latency {turn.latency:.2f} s"))
    for index in range(len(report.result.turns), len(scenario.turns)):
        checks.append(Check(scenario.name, f"turn {index + 1} spoken", False, "the call ended before this turn"))
    for tool in scenario.tools:
        checks.append(_tool_check(scenario.name, tool, record))
    if scenario.outcome:
        checks.append(Check(scenario.name, f"outcome {scenario.outcome}", bool(record) and
                            record.get("outcome") == scenario.outcome,
                            f"stored outcome: {record.get('outcome')}" if record else "no call record (remote server)"))
    return checks


def _tool_check(name: str, tool: dict, record: dict | None) -> Check:
    wanted, expected_args = tool["name"], tool.get("arguments") or {}
    called = tool.get("called", True)
    what = f"tool {wanted}{' called' if called else ' not called'}" + (f" with {expected_args}" if expected_args else "")
    if record is None:
        return Check(name, what, False, "no call record (remote server): tool calls cannot be checked")
    calls = [call for call in record.get("tool_calls", []) if call.get("name") == wanted]
    if not called:
        return Check(name, what, not calls, f"{len(calls)} call(s)")

    def matches(call: dict) -> bool:
        stored = call.get("arguments") or {}
        return all(normalise(str(stored.get(key, ""))).find(normalise(str(value))) >= 0
                   for key, value in expected_args.items())

    ok = any(matches(call) for call in calls)
    return Check(name, what, ok, f"stored calls: {[c.get('arguments', '(no arguments stored)') for c in calls]}")


async def stored_record(database, call_sid: str, wait_secs: float = 10.0) -> dict | None:
    """The call record the server saved (it saves as the call ends), as a dict; None if it never appears."""
    import json

    from sqlalchemy import select

    from voiceagent.storage.models import CallRecordRow

    deadline = time.monotonic() + wait_secs
    while time.monotonic() < deadline:
        with database.session() as session:
            row = session.scalars(select(CallRecordRow).where(CallRecordRow.call_sid == call_sid)).first()
            if row is not None:
                return {"outcome": row.outcome, "tool_calls": json.loads(row.tool_calls or "[]")}
        await asyncio.sleep(0.2)
    return None


def junit_xml(checks: list[Check], path: Path, seconds: dict[str, float]) -> None:
    """One test suite, one test case per check (classname = scenario), for CI dashboards."""
    suite = ElementTree.Element("testsuite", name="voiceagent scenarios", tests=str(len(checks)),
                                failures=str(sum(not c.passed for c in checks)))
    for check in checks:
        case = ElementTree.SubElement(suite, "testcase", classname=check.scenario, name=check.what,
                                      time=f"{seconds.get(check.scenario, 0.0):.2f}")
        if not check.passed:
            ElementTree.SubElement(case, "failure", message=check.detail or "failed").text = check.detail
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


@dataclass
class ScenarioRun:
    checks: list[Check] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)


async def run_scenarios(scenarios: list[Scenario], speech_models, *, url: str | None = None, runtime=None,
                        settings=None, auth_token: str | None = None, progress=None) -> ScenarioRun:
    """Each scenario as one call: to `url`, or to a server started in this process (whose database then
    answers the tool and outcome checks)."""
    from voiceagent.simulate.run import local_server, simulate_call
    from voiceagent.simulate.voices import caller_voice

    run = ScenarioRun()
    voices: dict = {}

    async def place_all(target: str, database) -> None:
        for scenario in scenarios:
            if scenario.voice not in voices:
                voices[scenario.voice] = caller_voice(scenario.voice, speech_models.piper_voice)
            turns = await asyncio.to_thread(caller_turns, scenario, voices[scenario.voice])
            started = time.monotonic()
            report = await simulate_call(target, turns, speech_models, caller_number=scenario.caller,
                                         auth_token=auth_token)
            record = await stored_record(database, report.result.call_sid) if database is not None else None
            run.seconds[scenario.name] = time.monotonic() - started
            run.latencies[scenario.name] = report.latencies
            run.checks.extend(check_call(scenario, report, record))
            if progress:
                progress(scenario.name)

    if url:
        await place_all(url, None)
    else:
        async with local_server(runtime, settings) as local_url:
            await place_all(local_url, runtime.database)
    return run
