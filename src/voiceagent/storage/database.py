"""SQLAlchemy engine and sessions: SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from voiceagent.storage.file_lock import file_lock
from voiceagent.storage.models import Base

SCHEMA_LOCK_KEY = 0x766F6963  # the advisory lock of schema changes ("voic")


class Database:
    """One engine per process, shared by every call."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)
        self._add_new_columns()

    def _add_new_columns(self) -> None:
        """Nullable columns added to a model since a table was created (create_all adds tables only), and their
        indexes: a database made by an older version keeps working."""
        existing = inspect(self.engine)
        with self.engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                have = {column["name"] for column in existing.get_columns(table.name)}
                for column in table.columns:
                    if column.name in have or not column.nullable:
                        continue
                    kind = column.type.compile(dialect=self.engine.dialect)
                    connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
                    for index in table.indexes:
                        if column in index.columns.values():
                            index.create(connection, checkfirst=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """One process at a time inside the block: instances or workers starting together would otherwise race to
        create the same tables (a duplicate key in PostgreSQL's catalog, "table already exists" in SQLite).
        PostgreSQL: an advisory lock; a SQLite file: a lock file next to it; in memory: nothing to hold."""
        database_file = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if database_file and database_file != ":memory:":
            with file_lock(Path(database_file).with_name(Path(database_file).name + ".schema.lock")):
                yield
            return
        if self.engine.dialect.name != "postgresql":
            yield
            return
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})


def _sqlite_pragmas(connection, _record) -> None:
    # WAL lets concurrent calls read while one writes; the busy timeout queues writers instead of failing.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
