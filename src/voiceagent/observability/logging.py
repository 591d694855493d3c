"""One logging set-up for every command: no local variables in tracebacks, every line redacted, Pipecat at INFO."""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any, TextIO

from loguru import logger

from voiceagent.shared.redact import names_in_calls, names_introduced, redact_text

PIPECAT = "pipecat"  # loguru names records by module: Pipecat's own lines start with this


def redact_record(record: dict[str, Any]) -> None:
    """Loguru patcher: phone numbers and names masked in the message, its extras and its traceback.

    The traceback is formatted here, without local variables, and the exception removed from the record: no
    sink (a test's, a future one with loguru's default `diagnose=True`) can print an argument's value.
    """
    names = names_in_calls() | names_introduced(record["message"])  # "for John ... my name is John Smith"
    record["message"] = redact_text(record["message"], names)
    for key, value in record["extra"].items():
        if isinstance(value, str):
            record["extra"][key] = redact_text(value, names)
    exception = record["exception"]
    if exception is not None:
        text = "".join(traceback.format_exception(exception.type, exception.value, exception.traceback))
        record["message"] += "\n" + redact_text(text.rstrip(), names)
        record["exception"] = None


def pipecat_level(level: str) -> str:
    """Pipecat logs what it sees at DEBUG (frames, texts); its lines show from INFO unless DEBUG was asked for."""
    return level if level in ("TRACE", "DEBUG") else _higher(level, "INFO")


def _higher(first: str, second: str) -> str:
    return first if logger.level(first).no >= logger.level(second).no else second


class _ToLoguru(logging.Handler):
    """Standard-library log records (httpx, chromadb, ...) through loguru, so they are redacted like the rest."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.patch(lambda r: r.update(name=record.name)).opt(exception=record.exc_info).log(
            level, record.getMessage())


def configure_logging(level: str = "INFO", sink: TextIO | None = None) -> None:
    """Replace every loguru handler with one redacting handler at `level` (to stderr unless `sink` is given);
    the standard library's loggers go through it too, from INFO (their DEBUG is other libraries' detail)."""
    level = level.strip().upper()
    logger.remove()
    logger.configure(patcher=redact_record)
    logger.add(sink or sys.stderr, level=level, filter={"": level, PIPECAT: pipecat_level(level)},
               diagnose=False, backtrace=False)
    logging.basicConfig(handlers=[_ToLoguru()], level=_higher(level, "INFO"), force=True)
