"""Settings are typed and checked at start-up: a bad value stops the server with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from tests.conftest import make_settings
from voiceagent.config import Settings, describe_invalid_settings


def _problems(**env) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, **env)
    return describe_invalid_settings(raised.value)


def test_a_misspelt_provider_names_the_variable_and_the_allowed_values():
    assert _problems(tts_provider="elevenlab") == [
        "TTS_PROVIDER='elevenlab': Input should be 'auto', 'embedded' or 'elevenlabs'"]


def test_a_chosen_vendor_without_its_key_fails_at_start_up_not_at_the_first_call():
    assert _problems(stt_provider="deepgram", deepgram_api_key=None) == ["STT_PROVIDER=deepgram needs DEEPGRAM_API_KEY"]
    assert _problems(llm_provider="openai", openai_llm_model=None) == ["LLM_PROVIDER=openai needs OPENAI_LLM_MODEL"]


def test_numbers_out_of_range_and_impossible_hours_are_refused():
    assert _problems(port=70000) == ["PORT=70000: Input should be less than or equal to 65535"]
    assert _problems(business_open_hour=17, business_close_hour=9) == [
        "BUSINESS_CLOSE_HOUR must be after BUSINESS_OPEN_HOUR"]


def test_the_text_message_sender_must_be_an_e164_number():
    (problem,) = _problems(sms_from="555-0100")
    assert problem.startswith("SMS_FROM='555-0100': String should match pattern")
    assert _problems(idle_hangup_secs=-1) == ["IDLE_HANGUP_SECS=-1: Input should be greater than or equal to 0"]


def test_provider_names_are_case_insensitive_and_blank_means_auto(tmp_path):
    settings = make_settings(tmp_path, llm_provider=" Embedded ", tts_provider="", log_level="debug")
    assert (settings.llm_provider, settings.tts_provider, settings.log_level) == ("embedded", "auto", "DEBUG")


def test_every_turn_taking_threshold_is_in_one_object(tmp_path):
    turn = make_settings(tmp_path, vad_stop_secs=0.4, early_guess_quiet_secs=0.2).turn_taking
    assert (turn.vad_stop_secs, turn.early_guess_quiet_secs, turn.segmented_stt) == (0.4, 0.2, True)
    assert turn.stt_final_wait_secs == pytest.approx(0.4 + turn.segmented_stt_wait_secs)
    stock = make_settings(tmp_path, pipeline_profile="stock").turn_taking
    assert stock.stock and stock.vad_stop_secs == 0.2 and not stock.speculative_generation


@pytest.mark.slow
def test_serve_with_a_bad_setting_stops_at_once_with_the_message(tmp_path):
    env = {**os.environ, "EMBEDDINGS_PROVIDER": "nonsense", "PORT": "1"}
    result = subprocess.run([sys.executable, "-m", "voiceagent.cli", "serve"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "EMBEDDINGS_PROVIDER='nonsense'" in result.stderr and "Traceback" not in result.stderr, result.stderr
