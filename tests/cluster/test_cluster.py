"""Three instances behind nginx on shared PostgreSQL, Redis and Chroma (tests/cluster/run_cluster.py)."""

from __future__ import annotations

import pytest

from tests.cluster.run_cluster import run

pytestmark = [pytest.mark.realtime, pytest.mark.isolated]  # real-time calls through nginx, three server processes


@pytest.mark.timeout(900)
def test_three_instances_share_state_and_survive_a_crash():
    check = run()
    print("cluster:", check.figures)
    assert not check.violations, check.violations
    assert check.figures["bookings_won"] == "1/20" and check.figures["calls_ok"] == "6/6"
