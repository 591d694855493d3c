"""`voiceagent bench --soak N`: the option exists, and the RSS ratio compares after the last call to after call 10
(the soak itself places N real-time calls: its figures are in docs/performance.md, not asserted here)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from voiceagent.cli import app
from voiceagent.simulate.soak import SoakFigures, rss_ratio


def test_bench_has_a_soak_option():
    result = CliRunner().invoke(app, ["bench", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    assert result.exit_code == 0
    assert "--soak" in re.sub(r"\x1b\[[0-9;]*m", "", result.output)


def test_a_soak_refuses_a_running_server_it_cannot_measure():
    result = CliRunner().invoke(app, ["bench", "--soak", "3", "--url", "ws://127.0.0.1:1/ws/media"])
    assert result.exit_code == 2  # a usage error, before any model loads or call is placed


def test_the_ratio_is_after_the_last_call_over_after_call_ten():
    rss = [500.0 + call for call in range(1, 101)]  # 1 MB more after every call
    assert rss_ratio(rss) == pytest.approx(600.0 / 510.0)
    figures = SoakFigures(calls=100, rss_after_call_mb=rss)
    assert (figures.reference_call, figures.rss_reference_mb, figures.rss_last_mb) == (10, 510.0, 600.0)
    assert not figures.within_target  # +17.6%


def test_a_flat_soak_is_within_the_five_percent_target_and_warm_up_growth_does_not_count():
    rss = [400.0, 450.0, 480.0, 490.0, 495.0, 498.0, 499.0, 500.0, 500.0, 500.0] + [510.0] * 90
    figures = SoakFigures(calls=100, rss_after_call_mb=rss)
    assert figures.rss_ratio == pytest.approx(1.02)  # the first nine calls' growth is left out
    assert figures.within_target
    assert not SoakFigures(calls=100, rss_after_call_mb=rss[:-1] + [526.0]).within_target  # 5.2%


def test_a_soak_shorter_than_ten_calls_compares_with_its_last_call():
    assert rss_ratio([300.0, 310.0, 320.0]) == 1.0
    assert SoakFigures(calls=3, rss_after_call_mb=[300.0, 310.0, 320.0]).reference_call == 3
    with pytest.raises(ValueError):
        rss_ratio([])
