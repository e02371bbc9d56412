"""The Dagster event log of a data directory: SQLite files as Dagster keeps them, opened once.

Dagster's `SqliteEventLogStorage` builds a new SQLAlchemy engine, and so opens the database file
again, for every read and write of an event. A `jeugdhulp run` stores about a thousand events (a
planned and a finished event per dbt model and per check), and replaying one tiny run's 1,301
events took 17–53 s that way against 3–4.5 s with the engine kept (measured on this project's
2-core machine): most of a run's time after dbt had finished. This storage keeps an engine, with
its pooled connection, for the few database files in use (the index and the current runs) and is
otherwise Dagster's own: the same files under `<DAGSTER_HOME>/history/runs`, the same schema, the
same commit per event, so the Dagster UI reads them as before.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

# Database files kept open at once (one per run, plus the index): a long-lived UI process touches
# many runs over time, and the least recently used engine is closed beyond this number.
OPEN_SHARDS = 8


class DataDirEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` under `<base_dir>/history/runs`, reusing one engine per file."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(os.path.join(base_dir, "history", "runs"), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"base_dir": StringSource}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: dict) -> DataDirEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > OPEN_SHARDS:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            with self._engine(shard).connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
