"""Metrics under `serve --workers`: every worker's values in one scrape, a dead worker's calls out of the sum."""

from __future__ import annotations

import os
import subprocess
import sys

from voiceagent.observability.metrics import MULTIPROCESS_DIR_ENV, CallMetrics, worker_gone

WORKER = """
from voiceagent.observability.metrics import CallMetrics
metrics = CallMetrics()
metrics.active_calls.inc()
metrics.rejected_requests.labels(reason="busy").inc({refusals})
print(__import__("os").getpid())
"""


def sample(text: str, series: str) -> float:
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith(series + " ")))


def test_a_scrape_adds_up_every_worker_and_a_dead_worker_leaves_the_active_calls(tmp_path, monkeypatch):
    monkeypatch.setenv(MULTIPROCESS_DIR_ENV, str(tmp_path))
    pids = [
        int(subprocess.run([sys.executable, "-c", WORKER.format(refusals=n)], env=dict(os.environ), check=True,
                           capture_output=True, text=True).stdout)
        for n in (2, 3)
    ]
    scraped = CallMetrics().render().decode()  # as the worker answering the scrape renders it
    assert sample(scraped, 'voiceagent_rejected_requests_total{reason="busy"}') == 5
    assert sample(scraped, "voiceagent_active_calls") == 2
    worker_gone(pids[0])
    scraped = CallMetrics().render().decode()
    assert sample(scraped, "voiceagent_active_calls") == 1  # the dead worker's call is over
    assert sample(scraped, 'voiceagent_rejected_requests_total{reason="busy"}') == 5  # what it counted stays


def test_a_single_process_server_keeps_its_own_registry(monkeypatch):
    monkeypatch.delenv(MULTIPROCESS_DIR_ENV, raising=False)
    first, second = CallMetrics(), CallMetrics()
    first.active_calls.inc()
    assert sample(first.render().decode(), "voiceagent_active_calls") == 1
    assert sample(second.render().decode(), "voiceagent_active_calls") == 0  # apps (and tests) stay apart
