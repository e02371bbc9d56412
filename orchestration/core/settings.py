"""Runtime settings from the environment (CONTRACT §1), resolved in one place."""

from __future__ import annotations

import os
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

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Used only by `generate`/`demo` on synthetic data; `run` refuses it for real data.
DEVELOPMENT_PSEUDONYM_KEY = "jeugdhulp-DEVELOPMENT-KEY-synthetic-data-only"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    as_of: date
    pseudonym_key: str | None
    postgres_dsn: str | None

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


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    as_of_text = env.get("JEUGDHULP_AS_OF", "").strip()
    return Settings(
        data_dir=Path(env.get("JEUGDHULP_DATA_DIR", "").strip() or "./data").resolve(),
        as_of=parse_as_of(as_of_text) if as_of_text else date.today(),
        pseudonym_key=env.get("JEUGDHULP_PSEUDONYM_KEY") or None,
        postgres_dsn=env.get("JEUGDHULP_POSTGRES_DSN") or None,
    )
