"""Runtime settings from the environment (CONTRACT §1), resolved in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# Offline by default: no tool may phone home. Set before dbt, Dagster or GX are imported.
for _name, _value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
}.items():
    os.environ.setdefault(_name, _value)

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Used only by `generate`/`demo` on synthetic data; `run` refuses it for real data.
DEVELOPMENT_PSEUDONYM_KEY = "jeugdhulp-DEVELOPMENT-KEY-synthetic-data-only"

# DuckDB memory limit of ingestion's warehouse connection (JEUGDHULP_INGEST_MEMORY_LIMIT). Without
# one DuckDB keeps every block it wrote cached, up to 80 % of RAM: a first national load (millions
# of files in one run) would grow to several GB. Ingestion only appends, so 1 GB is plenty.
DEFAULT_INGEST_MEMORY_LIMIT = "1GB"
_MEMORY_SIZE = re.compile(r"[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    as_of: date
    pseudonym_key: str | None
    postgres_dsn: str | None
    ingest_memory_limit: str = DEFAULT_INGEST_MEMORY_LIMIT  # DuckDB size, e.g. "1GB", "512MB"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse" / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def uses_development_key(self) -> bool:
        return self.pseudonym_key == DEVELOPMENT_PSEUDONYM_KEY


def parse_as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise SettingsError(f"JEUGDHULP_AS_OF must be a date as YYYY-MM-DD, got {value!r}") from exc


def parse_memory_limit(value: str) -> str:
    if _MEMORY_SIZE.fullmatch(value) is None:
        raise SettingsError(
            f"JEUGDHULP_INGEST_MEMORY_LIMIT must be a size such as 1GB or 512MB, got {value!r}"
        )
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    as_of_text = env.get("JEUGDHULP_AS_OF", "").strip()
    return Settings(
        data_dir=Path(env.get("JEUGDHULP_DATA_DIR", "").strip() or "./data").resolve(),
        as_of=parse_as_of(as_of_text) if as_of_text else date.today(),
        pseudonym_key=env.get("JEUGDHULP_PSEUDONYM_KEY") or None,
        postgres_dsn=env.get("JEUGDHULP_POSTGRES_DSN") or None,
        ingest_memory_limit=parse_memory_limit(
            env.get("JEUGDHULP_INGEST_MEMORY_LIMIT", "").strip() or DEFAULT_INGEST_MEMORY_LIMIT
        ),
    )
