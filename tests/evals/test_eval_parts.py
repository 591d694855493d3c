"""The evals' parts that need no phone call: text normalisation, caller voices, scenario files, JUnit XML."""

from __future__ import annotations

from importlib import resources
from xml.etree import ElementTree

import numpy as np
import pytest

from voiceagent.evals.scenarios import Check, ScenarioError, junit_xml, load_scenarios
from voiceagent.evals.stt import over_the_phone, score_voice
from voiceagent.evals.text import normalise
from voiceagent.simulate.voices import VOICE_NAMES, SystemVoice, caller_voice, parse_voice_name


@pytest.mark.parametrize(("text", "normal"), [
    ("The Pro plan is $99 a month.", "the pro plan is 99 dollars a month"),
    ("ninety-nine dollars", "99 dollars"),
    ("two hundred ninety nine", "299"),
    ("Tuesday at two thirty p.m.", "tuesday at 230 pm"),
    ("at 2:30 PM", "at 230 pm"),
    ("10,000 calls, 30% off", "10000 calls 30 percent off"),
    ("five five five, one two three", "555123"), ("555-123", "555123"),
    ("Byte AI", "byteai"), ("bite AI", "bite ai"),  # the brand's spacing, not its spelling
])
def test_said_and_heard_are_normalised_the_same_explicit_way(text, normal):
    assert normalise(text) == normal


def test_voice_names_parse_and_unknown_ones_name_the_choices():
    assert parse_voice_name("slt-slow-noisy") == ("slt", 0.8, True)
    assert parse_voice_name("espeak-us-f") == ("espeak-us-f", 1.0, False)
    assert "rms-fast-noisy" in VOICE_NAMES and "piper-noisy" not in VOICE_NAMES
    with pytest.raises(ValueError, match="slt"):
        parse_voice_name("us9")


@pytest.mark.parametrize("name", ["slt", "awb-fast", "espeak-us-slow-noisy", "rms-noisy"])
def test_debian_voices_speak_phone_audio(name):
    audio = SystemVoice(name).say("How much is the Pro plan? [pause 300] Thanks.")
    assert audio.dtype == np.int16 and 1.5 < len(audio) / 8000 < 8 and np.abs(audio).max() > 3000


def test_noise_is_added_and_the_same_every_time():
    clean, noisy = SystemVoice("slt").say("hello"), SystemVoice("slt-noisy").say("hello")
    assert np.count_nonzero(noisy[800:]) > np.count_nonzero(clean[800:])  # hiss in the pauses (after the lead-in)
    assert np.array_equal(noisy, SystemVoice("slt-noisy").say("hello"))


def test_stt_eval_transcribes_each_voice_through_mu_law(runtime):
    models = runtime.speech_models
    score = score_voice("slt", caller_voice("slt", models.piper_voice), models.transcribe,
                        lines=["How much does the Pro plan cost per month?"])
    assert score.references == ["how much does the pro plan cost per month"] and score.heard[0]
    assert 0.0 <= score.wer <= 1.0 and over_the_phone(np.zeros(800, dtype=np.int16)).shape == (1600,)


def test_stt_scores_the_held_out_lines_apart_from_the_tuned_ones():
    from voiceagent.evals.stt import ALL_LINES, HELD_OUT_LINES, LINES, VoiceScore

    assert ALL_LINES == LINES + HELD_OUT_LINES and not set(LINES) & set(HELD_OUT_LINES)
    score = VoiceScore("x", ["a b", "c d"], ["a b", "c x"])
    assert score.part(0, 1).accuracy == 1.0 and score.part(1).accuracy == 0.5 and score.accuracy == 0.75


def test_the_packaged_scenarios_load_and_cover_the_calls_a_business_needs():
    scenarios = load_scenarios(resources.files("voiceagent.simulate") / "data/byteai_scenarios.yaml")
    tools = {tool["name"] for scenario in scenarios for tool in scenario.tools}
    assert {"book_appointment", "check_appointment", "escalate_to_human"} <= tools
    assert any(s.voice != "piper" for s in scenarios) and all(s.turns for s in scenarios)


@pytest.mark.parametrize(("content", "problem"), [
    ("scenarios: []", "top-level"),
    ("scenarios:\n  - name: x\n    turns:\n      - say: hi\n        wav: a.wav", "exactly one"),
    ("scenarios:\n  - name: x\n    turns:\n      - say: hi\n        sayz: [a]", "unknown keys"),
    ("scenarios:\n  - name: x\n    turns:\n      - say: hi\n        within: soon", "seconds"),
    ("scenarios: [", "while parsing"),
])
def test_a_bad_scenario_file_names_the_problem(tmp_path, content, problem):
    path = tmp_path / "s.yaml"
    path.write_text(content)
    with pytest.raises(ScenarioError, match=problem):
        load_scenarios(path)


def test_checks_become_junit_test_cases(tmp_path):
    junit_xml([Check("faq", "turn 1 says '99'", True), Check("faq", "outcome completed", False, "stored: failed")],
              tmp_path / "out.xml", {"faq": 12.5})
    suite = ElementTree.parse(tmp_path / "out.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == ["outcome completed"] and failed[0].get("classname") == "faq"
