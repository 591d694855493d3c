"""Prometheus metrics of the server, in a registry owned by the app (one per app, so tests stay apart).

Under `serve --workers N` the supervisor sets PROMETHEUS_MULTIPROC_DIR before it spawns the workers: each worker's
values then live in files there, and a scrape answered by any worker adds up every worker's (prometheus_client's
multiprocess mode); active calls are summed over the workers alive.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Why a request or call was refused (docs/security.md): the label values of voiceagent_rejected_requests_total
REJECT_REASONS = ("signature", "stream_token", "rate_limit", "number_limit", "busy", "draining", "protocol")
# Where an error happened: the label values of voiceagent_errors_total (docs/alerts.md)
ERROR_COMPONENTS = ("call", "stt", "llm", "tts", "tools", "storage", "recording", "shared_state")
# Why the caller heard the LLM fallback line instead of an answer: voiceagent_llm_fallbacks_total
FALLBACK_CAUSES = ("error", "timeout")
LATENCY_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0)


class CallMetrics:
    """Active calls, calls by outcome, per-turn response latency, per-stage latency, errors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.active_calls = Gauge("voiceagent_active_calls", "Calls in progress", registry=self.registry,
                                  multiprocess_mode="livesum")
        self.calls = Counter(
            "voiceagent_calls", "Finished calls by outcome", ["outcome"], registry=self.registry
        )
        self.response_latency = Histogram(
            "voiceagent_response_latency_seconds",
            "End of caller speech to first agent audio sent to the phone line",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stage_latency = Histogram(
            "voiceagent_stage_latency_seconds",
            "Time from end of caller speech to each pipeline stage",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "voiceagent_errors", "Errors by component: " + ", ".join(ERROR_COMPONENTS), ["component"],
            registry=self.registry,
        )
        self.llm_fallbacks = Counter(
            "voiceagent_llm_fallbacks", "Turns answered with the fallback line because the LLM failed, by cause: "
            "error or timeout", ["cause"], registry=self.registry,
        )
        self.rejected_requests = Counter(
            "voiceagent_rejected_requests", "Requests and calls refused, by reason: " + ", ".join(REJECT_REASONS),
            ["reason"], registry=self.registry,
        )
        self.provider_usage = Counter(
            "voiceagent_provider_usage", "Provider usage: stt_seconds, llm_input_tokens, llm_output_tokens, "
            "llm_cached_tokens, tts_characters", ["kind"], registry=self.registry,
        )
        self.call_cost = Histogram(
            "voiceagent_call_cost_usd", "Estimated cost of a call from the plan's price table",
            buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0), registry=self.registry,
        )
        self.speculative_answers = Counter(
            "voiceagent_speculative_answers", "LLM answers started before the caller's turn ended: kept (the final "
            "words matched the guess) or discarded", ["result"], registry=self.registry,
        )
        for result in ("kept", "discarded"):
            self.speculative_answers.labels(result=result)
        # Every tool call of every brain (call/assembly.py): ok, failed (the tool could not do it), or invalid
        # (arguments the tool refused); ok / all is the plan's tool-execution success ratio.
        self.tool_calls = Counter(
            "voiceagent_tool_calls", "Tool calls by tool and result: ok, failed, invalid", ["tool", "result"],
            registry=self.registry,
        )
        self.sms = Counter(
            "voiceagent_sms", "Booking confirmation texts: sent (Twilio accepted it) or failed", ["result"],
            registry=self.registry,
        )
        for result in ("sent", "failed"):
            self.sms.labels(result=result)
        for kind in ("stt_seconds", "llm_input_tokens", "llm_output_tokens", "llm_cached_tokens", "tts_characters"):
            self.provider_usage.labels(kind=kind)
        for outcome in ("completed", "escalated", "failed", "caller_hung_up", "drained"):
            self.calls.labels(outcome=outcome)
        for reason in REJECT_REASONS:
            self.rejected_requests.labels(reason=reason)
        for component in ERROR_COMPONENTS:  # every series exists at 0, so rate() and alerts see the first error
            self.errors.labels(component=component)
        for cause in FALLBACK_CAUSES:
            self.llm_fallbacks.labels(cause=cause)

    def render(self) -> bytes:
        if os.environ.get(MULTIPROCESS_DIR_ENV):  # every worker's values, whichever worker answers the scrape
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def worker_gone(pid: int) -> None:
    """A worker process ended: its live gauges (active calls) leave the sum; its counters stay counted."""
    if os.environ.get(MULTIPROCESS_DIR_ENV):
        multiprocess.mark_process_dead(pid)
