"""A Claude model Anthropic is retiring is named at start-up, with its date, before calls start failing."""

from __future__ import annotations

from tests.conftest import make_settings
from voiceagent.providers import anthropic as anthropic_provider
from voiceagent.providers.anthropic import retiring_model_warning
from voiceagent.providers.factory import start_up_warnings


def test_a_retiring_claude_model_is_named_with_its_date(tmp_path, monkeypatch):
    monkeypatch.setitem(anthropic_provider.DEPRECATED_MODELS, "claude-old-1", "January 1st, 2027")
    settings = make_settings(tmp_path, anthropic_api_key="sk-test", anthropic_model="claude-old-1")
    warning = retiring_model_warning(settings.anthropic_model)
    assert warning is not None and start_up_warnings(settings) == [warning]  # what start-up logs
    assert "ANTHROPIC_MODEL=claude-old-1" in warning and "January 1st, 2027" in warning
    assert "sk-test" not in warning


def test_the_installed_sdks_retiring_models_are_warned_of_and_the_default_is_not_one(tmp_path):
    # The SDK's own list (it named the plan's claude-sonnet-4-5, retiring on November 30th, 2026).
    for model, retires in anthropic_provider.DEPRECATED_MODELS.items():
        (warning,) = start_up_warnings(make_settings(tmp_path, anthropic_api_key="sk-test", anthropic_model=model))
        assert retires in warning
    assert retiring_model_warning(make_settings(tmp_path, anthropic_api_key="sk-test").anthropic_model) is None
    assert start_up_warnings(make_settings(tmp_path, anthropic_api_key="sk-test")) == []


def test_no_warning_when_claude_is_not_the_brain(tmp_path, monkeypatch):
    monkeypatch.setitem(anthropic_provider.DEPRECATED_MODELS, "claude-old-1", "January 1st, 2027")
    # The offline engine (no key), or an OpenAI-compatible LLM chosen over a retiring Claude model.
    assert start_up_warnings(make_settings(tmp_path, anthropic_model="claude-old-1")) == []
    assert start_up_warnings(make_settings(tmp_path, anthropic_api_key="sk-test", llm_provider="openai",
                                           openai_llm_model="local", anthropic_model="claude-old-1")) == []
