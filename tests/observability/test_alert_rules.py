"""The Prometheus alert rules: valid (promtool check rules), proven to fire and to stay quiet on synthetic series
(promtool test rules), about series the agent really exports, each with its section in docs/alerts.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from voiceagent.observability.metrics import CallMetrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = Path(__file__).with_name("alerts_test.yml")
DOCS = ROOT / "docs" / "alerts.md"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed: apt-get install prometheus (make system-packages)")
    return found


def alerts() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_the_rules_are_valid():
    done = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in done.stdout


def test_the_rules_fire_on_synthetic_series_and_stay_quiet_otherwise():
    done = subprocess.run([promtool(), "test", "rules", str(RULE_TESTS)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert tested == {rule["alert"] for rule in alerts()}  # every alert has its unit test


def test_the_rules_use_only_series_the_agent_exports():
    exported = {line.split("{")[0].split(" ")[0] for line in CallMetrics().render().decode().splitlines()
                if line and not line.startswith("#")}
    used = {name for rule in alerts() for name in re.findall(r"\bvoiceagent_\w+", rule["expr"])}
    assert used and used <= exported, sorted(used - exported)
    assert {"voiceagent_response_latency_seconds_bucket", "voiceagent_errors_total", "voiceagent_llm_fallbacks_total",
            "voiceagent_rejected_requests_total"} <= used


def test_every_alert_says_what_to_do_in_the_docs():
    headings = {re.sub(r"[^a-z0-9-]", "", line.lstrip("#").strip().lower().replace(" ", "-"))
                for line in DOCS.read_text().splitlines() if line.startswith("#")}
    for rule in alerts():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        runbook = rule["annotations"]["runbook"]
        assert runbook == f"docs/alerts.md#{rule['alert'].lower()}" and runbook.split("#")[1] in headings, runbook
