"""The one logging set-up: every line redacted, no local variables in tracebacks, Pipecat quiet below INFO."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from loguru import logger

from voiceagent.observability.logging import configure_logging, pipecat_level
from voiceagent.shared.record import CallRecord


@pytest.fixture
def logged():
    """configure_logging into a buffer; loguru back to its default stderr handler afterwards."""
    buffer = io.StringIO()

    def configure(level: str = "INFO") -> io.StringIO:
        configure_logging(level, sink=buffer)
        return buffer

    yield configure
    restore_default_logging()


def restore_default_logging() -> None:
    """loguru's default stderr handler, and no handler of ours on the standard library's root logger."""
    logger.remove()
    logger.add(sys.stderr)
    logging.basicConfig(handlers=[logging.NullHandler()], level=logging.WARNING, force=True)


def _book(phone: str, name: str) -> None:
    raise ValueError("the slot is taken")


def test_a_logged_exception_prints_no_local_variable(logged):
    out = logged("DEBUG")
    caller_phone, caller_name = "+15551234567", "Zebulon Quartz"
    try:
        _book(caller_phone, caller_name)
    except ValueError:
        logger.exception("Tool book_appointment failed")
    text = out.getvalue()
    assert "Tool book_appointment failed" in text and "ValueError: the slot is taken" in text
    assert "_book(caller_phone, caller_name)" in text  # the traceback is there, without values
    assert "5551234567" not in text and "Zebulon" not in text


def test_a_sink_added_later_with_loguru_defaults_sees_no_locals_either(logged):
    logged("INFO")
    later = io.StringIO()
    logger.add(later, level="DEBUG")  # loguru's default diagnose=True would print each frame's variables
    number = "+15551234567"
    try:
        raise RuntimeError(f"could not reach {number}")
    except RuntimeError:
        logger.exception("Transfer failed")
    text = later.getvalue()
    assert "RuntimeError: could not reach ***67" in text and "5551234567" not in text


def test_numbers_and_introduced_names_are_masked_in_messages_and_extras(logged):
    out = logged("DEBUG")
    logger.bind(caller="+1 (555) 123-4567").info("Caller said: 'Hi, my name is John Smith, I'm on 555 123 4567'")
    logger.info("Callback {}", "+15551234567")
    text = out.getvalue()
    assert "John" not in text and "Smith" not in text and "5551234567" not in text and "123 4567" not in text
    assert "my name is [name]" in text and "Callback ***67" in text


def test_a_name_known_in_a_call_is_masked_wherever_it_appears_later(logged):
    out = logged("DEBUG")
    record = CallRecord(call_sid="CA1", caller="+15551234567")
    record.personal_names.add("Dana Fox")  # given on its own after "Can I have your name?"
    record.caller_said("My name is Zebulon Quartz.")  # introduced: learnt by the record
    logger.debug("TTS: Just to confirm: an appointment for Dana Fox. Thanks, Zebulon!")
    text = out.getvalue()
    assert "Dana" not in text and "Fox" not in text and "Zebulon" not in text
    assert "an appointment for [name]. Thanks, [name]!" in text


def _log_as(module: str, level: str, message: str) -> None:
    """Log from code whose module is `module` (loguru names a record by its caller's module)."""
    exec(f"logger.log({level!r}, {message!r})", {"__name__": module, "logger": logger})


@pytest.mark.parametrize(("level", "pipecat_debug_shown", "own_debug_shown"),
                         [("INFO", False, False), ("DEBUG", True, True), ("WARNING", False, False)])
def test_pipecat_logs_from_info_unless_debug_is_asked_for(logged, level, pipecat_debug_shown, own_debug_shown):
    out = logged(level)
    _log_as("pipecat.services.whisper.stt", "DEBUG", "pipecat debug line")
    _log_as("pipecat.pipeline.worker", "INFO", "pipecat info line")
    _log_as("voiceagent.call.session", "DEBUG", "own debug line")
    _log_as("pipecat.transports.base", "WARNING", "pipecat warning line")
    text = out.getvalue()
    assert ("pipecat debug line" in text) == pipecat_debug_shown
    assert ("own debug line" in text) == own_debug_shown
    assert ("pipecat info line" in text) == (level != "WARNING")
    assert "pipecat warning line" in text


def test_pipecat_level_never_below_info_unless_debug():
    assert [pipecat_level(level) for level in ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")] == [
        "TRACE", "DEBUG", "INFO", "WARNING", "ERROR"]


def test_standard_library_loggers_are_redacted_too(logged):
    out = logged("INFO")
    logging.getLogger("httpx").info("POST /Calls/CA1.json To=+15551234567 for John, my name is John Smith")
    logging.getLogger("chromadb").debug("below INFO: not shown")
    text = out.getvalue()
    assert "httpx" in text and "POST /Calls/CA1.json To=***67" in text
    assert "5551234567" not in text and "John" not in text and "Smith" not in text and "below INFO" not in text
