"""The Grafana dashboard asks only for series the server exports (a renamed metric must fail here, not on a
blank panel), and has the plan's tool success ratio."""

from __future__ import annotations

import json
import re
from pathlib import Path

from voiceagent.observability.metrics import CallMetrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "voiceagent-dashboard.json"


def _exported() -> set[str]:
    metrics = CallMetrics()
    names = set()
    for family in metrics.registry.collect():
        names.update(sample.name for sample in family.samples)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)  # labelled series exist once used
    return names


def test_every_series_the_dashboard_asks_for_is_exported():
    panels = json.loads(DASHBOARD.read_text())["panels"]
    used = {name for panel in panels for target in panel["targets"] for name in re.findall(r"voiceagent_\w+",
                                                                                           target["expr"])}
    assert used and used <= _exported(), sorted(used - _exported())


def test_the_tool_success_ratio_panel_is_ok_over_all_tool_calls():
    panels = json.loads(DASHBOARD.read_text())["panels"]
    (panel,) = [p for p in panels if p["title"].startswith("Tool success ratio")]
    expression = panel["targets"][0]["expr"]
    assert 'voiceagent_tool_calls_total{result="ok"}' in expression and "/ sum(rate(voiceagent_tool_calls_total" in expression
    assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert len({p["id"] for p in panels}) == len(panels)
