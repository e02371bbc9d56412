"""Runtime settings from the environment (docs/contract.md §1), resolved in one place."""

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
# DuckDB memory limit of dbt's connection (JEUGDHULP_DBT_MEMORY_LIMIT): without it a national
# build reaches 8 GB; with it DuckDB spills to <warehouse>.tmp (benchmarks/RESULTS.md, "Memory").
DEFAULT_DBT_MEMORY_LIMIT = "2GB"
# The freshness check warns when landing/ijw received no file for this many days
# (JEUGDHULP_LANDING_QUIET_DAYS).
DEFAULT_LANDING_QUIET_DAYS = 3
# A landed file is taken only when complete: its size and modification time stable for this many
# seconds (JEUGDHULP_SETTLE_SECONDS). Measured against the file's mtime, so a daily run over files
# that landed earlier never waits; a file modified within it is looked at again once it is this old,
# and left for the next run ("still arriving") if it changed meanwhile. `Settings` built in code
# (tests, benchmarks) default to 0: only the check that a file did not change while read remains.
DEFAULT_SETTLE_SECONDS = 2.0
# XLSX limits (docs/contract.md §2.5); a workbook beyond them is quarantined with the reason.
# JEUGDHULP_XLSX_MAX_INFLATED_MB: the sum of the zip members' inflated sizes (central directory).
DEFAULT_XLSX_MAX_INFLATED_MB = 256
# JEUGDHULP_XLSX_MAX_RATIO: inflated / compressed size of the whole workbook (a zip bomb), checked
# once the workbook inflates to more than 16 MB (real workbooks compress 5-20x).
DEFAULT_XLSX_MAX_RATIO = 100
# JEUGDHULP_XLSX_MAX_CELLS: rows x columns of the first sheet's declared dimension (<dimension
# ref="A1:K5000"/>); Excel's own maximum is 1,048,576 x 16,384.
DEFAULT_XLSX_MAX_CELLS = 20_000_000
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
    dbt_memory_limit: str = DEFAULT_DBT_MEMORY_LIMIT
    landing_quiet_days: int = DEFAULT_LANDING_QUIET_DAYS
    settle_seconds: float = 0.0  # load_settings: DEFAULT_SETTLE_SECONDS
    xlsx_max_inflated_mb: int = DEFAULT_XLSX_MAX_INFLATED_MB
    xlsx_max_ratio: int = DEFAULT_XLSX_MAX_RATIO
    xlsx_max_cells: int = DEFAULT_XLSX_MAX_CELLS

    def dbt_vars(self) -> dict[str, str]:
        """The run's parameters as dbt `--vars` (dbt_project.yml and profiles.yml read them)."""
        return {
            "as_of": self.as_of.isoformat(),
            "warehouse_path": str(self.warehouse_path),
            "memory_limit": self.dbt_memory_limit,
        }

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


def parse_memory_limit(value: str, name: str = "JEUGDHULP_INGEST_MEMORY_LIMIT") -> str:
    if _MEMORY_SIZE.fullmatch(value) is None:
        raise SettingsError(f"{name} must be a size such as 1GB or 512MB, got {value!r}")
    return value


def parse_quiet_days(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(
            f"JEUGDHULP_LANDING_QUIET_DAYS must be a whole number >= 1, got {value!r}"
        )
    return int(value)


def parse_settle_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise SettingsError(
            f"JEUGDHULP_SETTLE_SECONDS must be a number of seconds (0-3600), got {value!r}"
        )
    return seconds


def parse_positive_int(value: str, name: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def automation_enabled(env: dict[str, str] | None = None) -> bool:
    """Schedules and sensors start RUNNING when the code location loads, unless
    JEUGDHULP_AUTOMATION=off (also: 0, false, no, stopped). Read when the definitions load."""
    env = os.environ if env is None else env
    value = env.get("JEUGDHULP_AUTOMATION", "").strip().lower()
    return value not in {"off", "0", "false", "no", "stopped"}


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
        dbt_memory_limit=parse_memory_limit(
            env.get("JEUGDHULP_DBT_MEMORY_LIMIT", "").strip() or DEFAULT_DBT_MEMORY_LIMIT,
            "JEUGDHULP_DBT_MEMORY_LIMIT",
        ),
        landing_quiet_days=parse_quiet_days(
            env.get("JEUGDHULP_LANDING_QUIET_DAYS", "").strip() or str(DEFAULT_LANDING_QUIET_DAYS)
        ),
        settle_seconds=parse_settle_seconds(
            env.get("JEUGDHULP_SETTLE_SECONDS", "").strip() or str(DEFAULT_SETTLE_SECONDS)
        ),
        xlsx_max_inflated_mb=parse_positive_int(
            env.get("JEUGDHULP_XLSX_MAX_INFLATED_MB", "").strip()
            or str(DEFAULT_XLSX_MAX_INFLATED_MB),
            "JEUGDHULP_XLSX_MAX_INFLATED_MB",
        ),
        xlsx_max_ratio=parse_positive_int(
            env.get("JEUGDHULP_XLSX_MAX_RATIO", "").strip() or str(DEFAULT_XLSX_MAX_RATIO),
            "JEUGDHULP_XLSX_MAX_RATIO",
        ),
        xlsx_max_cells=parse_positive_int(
            env.get("JEUGDHULP_XLSX_MAX_CELLS", "").strip() or str(DEFAULT_XLSX_MAX_CELLS),
            "JEUGDHULP_XLSX_MAX_CELLS",
        ),
    )
