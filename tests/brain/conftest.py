from __future__ import annotations

import pytest

from tests.brain.talk import build_engine, new_database


@pytest.fixture
def engine(tmp_path, runtime):
    """The engine as served (the runtime's intent classifier), for one caller."""
    return build_engine(new_database(tmp_path), runtime, runtime.intents)
