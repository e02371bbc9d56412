"""Dagster resources and the dbt project handle, resolved from the environment."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from jeugdhulp.settings import PROJECT_ROOT, Settings, load_settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# DuckDB allows one writer process: every asset that opens the warehouse runs in this pool, whose
# limit the instance sets to 1 (`jeugdhulp` writes that into dagster.yaml).
WAREHOUSE_POOL = "warehouse"
# The dbt beside the running interpreter, so `.venv/bin/jeugdhulp` works without an activated venv.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
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
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _manifest_is_stale(manifest):
            result = subprocess.run(
                [
                    DBT_EXECUTABLE,
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
                env=dbt_environment(load_settings()),
            )
            if result.returncode != 0:
                raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return manifest


def dbt_environment(settings: Settings) -> dict[str, str]:
    """The environment dbt runs in: warehouse path and reporting date from our settings."""
    import os

    env = dict(os.environ)
    env["JEUGDHULP_WAREHOUSE_PATH"] = str(settings.warehouse_path)
    env["JEUGDHULP_AS_OF"] = settings.as_of.isoformat()
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    return env


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
