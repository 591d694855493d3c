"""Storage tests run on SQLite and on a throw-away PostgreSQL cluster (one per test session)."""

from __future__ import annotations

import pytest

from tests.storage.postgres import postgres_cluster
from voiceagent.storage import Database


@pytest.fixture(scope="session")
def postgres():
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request, tmp_path) -> Database:
    """An empty database with the tables, on each engine the agent supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'agent.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    database = Database(url)
    database.create_all()
    yield database
    database.engine.dispose()
