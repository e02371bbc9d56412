"""Dagster resources: the run's settings, the dbt project handle and the single-writer pool."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import ConfigurableResource, InitResourceContext
from dagster_dbt import DbtCliResource, DbtProject
from pydantic import Field, PrivateAttr

from jeugdhulp import dbt_cli
from jeugdhulp.dbt_cli import PARSE_LOCK, parse_env
from jeugdhulp.processes import write_exec_wrapper
from jeugdhulp.settings import (
    DEVELOPMENT_PSEUDONYM_KEY,
    PROJECT_ROOT,
    Settings,
    SettingsError,
    load_settings,
    parse_as_of,
    parse_memory_limit,
)

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# DuckDB allows one writer process: every asset that opens the warehouse runs in this pool, whose
# limit the instance sets to 1 (`jeugdhulp` writes that into dagster.yaml).
WAREHOUSE_POOL = "warehouse"
# The dbt beside the running interpreter, so `.venv/bin/jeugdhulp` works without an activated venv:
# `jeugdhulp-dbt`, which parses the project without the run's parameters (jeugdhulp/dbt_cli.py),
# or dbt itself in a virtualenv installed before it existed.
_BIN = Path(sys.executable).parent
DBT_EXECUTABLE = str(_BIN / "jeugdhulp-dbt" if (_BIN / "jeugdhulp-dbt").exists() else _BIN / "dbt")
# Reporting dates are calendar dates in the region's time zone (the schedule's zone too).
REGION_TZ = ZoneInfo("Europe/Amsterdam")
# The resource key under which assets, checks and sensors receive the settings.
SETTINGS_RESOURCE_KEY = "settings"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """DBT_EXECUTABLE behind a wrapper that ends it when the process that started it ends
    (jeugdhulp/processes.py), so a killed run or step leaves no dbt writing the warehouse. The
    wrapper is a script in the project's target folder, one per interpreter; where it cannot be
    written, dbt itself."""
    interpreter = hashlib.sha256(sys.executable.encode()).hexdigest()[:12]
    wrapper = Path(dbt_project.manifest_path).parent / "bin" / f"dbt-{interpreter}"
    try:
        return str(write_exec_wrapper(wrapper, DBT_EXECUTABLE))
    except OSError:
        return DBT_EXECUTABLE


class JeugdhulpSettings(ConfigurableResource):
    """The run's parameters, resolved once per run (launchpad: `resources.settings.config`).

    An empty field falls back to its environment variable in the code location's process
    (JEUGDHULP_DATA_DIR, JEUGDHULP_AS_OF, ...). The reporting date, when neither is given, is the
    date (Europe/Amsterdam) the run was created: every step of one run uses that same date. The
    pseudonym key is never run config (run config is stored and shown in the UI): it comes from
    JEUGDHULP_PSEUDONYM_KEY, or the development key when `allow_development_key` is set (synthetic
    data only).
    """

    data_dir: str = Field(
        default="",
        description="Data directory (landing/, warehouse/, published/); empty: "
        "JEUGDHULP_DATA_DIR or ./data.",
    )
    as_of: str = Field(
        default="",
        description="Reporting date YYYY-MM-DD; empty: JEUGDHULP_AS_OF, else the run's "
        "creation date (Europe/Amsterdam). The schedule passes its scheduled date.",
    )
    ingest_memory_limit: str = Field(
        default="",
        description="DuckDB memory limit of ingestion; empty: "
        "JEUGDHULP_INGEST_MEMORY_LIMIT or 1GB.",
    )
    dbt_memory_limit: str = Field(
        default="",
        description="DuckDB memory limit of the dbt build; empty: "
        "JEUGDHULP_DBT_MEMORY_LIMIT or 2GB.",
    )
    landing_quiet_days: int = Field(
        default=0,
        description="Freshness check: warn when landing/ijw received nothing for "
        "this many days; 0: JEUGDHULP_LANDING_QUIET_DAYS or 3.",
    )
    allow_development_key: bool = Field(
        default=False,
        description="Use the built-in development pseudonym key when "
        "JEUGDHULP_PSEUDONYM_KEY is unset (synthetic data only).",
    )

    _resolved: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._resolved = self.resolve(run_date=_run_creation_date(context))

    def resolve(self, *, run_date: date | None = None) -> Settings:
        """The plain settings: run config first, then the environment, then the defaults."""
        base = load_settings()
        changes: dict = {}
        if self.data_dir.strip():
            changes["data_dir"] = Path(self.data_dir.strip()).resolve()
        if self.as_of.strip():
            changes["as_of"] = parse_as_of(self.as_of.strip())
        elif not os.environ.get("JEUGDHULP_AS_OF", "").strip() and run_date is not None:
            changes["as_of"] = run_date
        if self.ingest_memory_limit.strip():
            changes["ingest_memory_limit"] = parse_memory_limit(self.ingest_memory_limit.strip())
        if self.dbt_memory_limit.strip():
            changes["dbt_memory_limit"] = parse_memory_limit(
                self.dbt_memory_limit.strip(), "dbt_memory_limit"
            )
        if self.landing_quiet_days:
            if self.landing_quiet_days < 1:
                raise SettingsError("landing_quiet_days must be >= 1")
            changes["landing_quiet_days"] = self.landing_quiet_days
        if not base.pseudonym_key and self.allow_development_key:
            changes["pseudonym_key"] = DEVELOPMENT_PSEUDONYM_KEY
        return replace(base, **changes)

    def get(self) -> Settings:
        """The settings of this run (outside a run, e.g. in a sensor: resolved now)."""
        if self._resolved is None:
            self._resolved = self.resolve()
        return self._resolved


def _run_creation_date(context: InitResourceContext) -> date | None:
    """The date the run was created, the same for every step (each may be its own process)."""
    run = context.run
    if run is None or context.instance is None:
        return None
    record = context.instance.get_run_record_by_id(run.run_id)
    if record is None:
        return None
    created = record.create_timestamp
    if created.tzinfo is None:  # stored as UTC
        created = created.replace(tzinfo=ZoneInfo("UTC"))
    return created.astimezone(REGION_TZ).date()


def run_config_for(settings: Settings, *, allow_development_key: bool = False) -> dict:
    """Run config that gives a run exactly these settings (what `jeugdhulp run` launches)."""
    config: dict = {
        "data_dir": str(settings.data_dir),
        "as_of": settings.as_of.isoformat(),
        "ingest_memory_limit": settings.ingest_memory_limit,
        "dbt_memory_limit": settings.dbt_memory_limit,
        "landing_quiet_days": settings.landing_quiet_days,
    }
    if allow_development_key:
        config["allow_development_key"] = True
    return {"resources": {SETTINGS_RESOURCE_KEY: {"config": config}}}


def today_in_region(now: datetime | None = None) -> date:
    return (now or datetime.now(REGION_TZ)).astimezone(REGION_TZ).date()


def dbt_vars_arg(settings: Settings) -> list[str]:
    """`--vars` for dbt: reporting date, warehouse and memory limit travel with the command."""
    return ["--vars", json.dumps(settings.dbt_vars(), sort_keys=True)]


@contextmanager
def case_key_secret_env(settings: Settings) -> Iterator[None]:
    """The case-key secret (jeugdhulp/privacy/case_key.py) in this process's environment while a
    dbt command starts: dagster-dbt hands dbt a copy of os.environ, and the secret may travel
    neither as --vars (logged) nor as run config (stored). Restored afterwards."""
    from jeugdhulp.privacy.case_key import CASE_KEY_ENV, case_key_env

    before = os.environ.get(CASE_KEY_ENV)
    os.environ.update(case_key_env(settings.pseudonym_key))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CASE_KEY_ENV, None)
        else:
            os.environ[CASE_KEY_ENV] = before


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    # which environment the parse sees, so what every build's parse starts from
    sources.append(Path(dbt_cli.__file__))
    for folder in ("models", "seeds", "macros", "tests", "snapshots"):
        sources.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return any(p.stat().st_mtime > built for p in sources if p.exists())


def ensure_dbt_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file.

    Definitions load the manifest at import time, so a fresh clone (or an edited model) needs a
    `dbt parse` first. A file lock keeps parallel processes (tests, the UI) from parsing at once.
    """
    manifest = Path(dbt_project.manifest_path)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # the lock jeugdhulp-dbt takes to copy the saved parse (PARSE_LOCK is in this same folder)
    with open(PARSE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _manifest_is_stale(manifest):
            result = subprocess.run(
                [
                    dbt_executable(),
                    "parse",
                    "--quiet",
                    "--project-dir",
                    str(DBT_PROJECT_DIR),
                    "--profiles-dir",
                    str(DBT_PROJECT_DIR),
                    "--target-path",
                    str(manifest.parent),
                ],
                capture_output=True,
                text=True,
                # the parse every build reuses: without the run's parameters, as jeugdhulp-dbt
                # parses (jeugdhulp/dbt_cli.py), whatever this process's environment holds
                env={**parse_env(os.environ), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
            )
            if result.returncode != 0:
                raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return manifest


class JeugdhulpDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource without its in-process dbt adapter.

    Before every dbt command dagster-dbt builds a dbt adapter in the run's own process (it loads
    the profile and the project and parses every macro: about 3 s CPU a build), which only its
    `fetch_row_counts` / `fetch_column_metadata` use. The dbt assets fetch row counts and column
    schemas themselves, after dbt has ended (orchestration/assets/dbt.py, with_table_metadata),
    so the adapter was built and never used. The dbt command, its events and its artefacts are
    the same; dagster-dbt treats a missing adapter as it treats one it could not build.
    """

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    return JeugdhulpDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
