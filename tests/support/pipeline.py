"""The pipeline as the tests drive it: a data dir, its environment, and `jeugdhulp` as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


def _official_ijw_folder() -> Path:
    """The official iJw 3.2 schemas and samples: not in the repository (they are the standard's,
    not ours). JEUGDHULP_IJW_SHARED names the folder; else the `shared/ijw-3.2` beside this
    checkout or beside the project's workspace. Tests that need them skip when none exists."""
    named = os.environ.get("JEUGDHULP_IJW_SHARED")
    candidates = [Path(named)] if named else []
    candidates += [SHARED / "ijw-3.2", Path("/work/shared/ijw-3.2")]
    return next((c for c in candidates if (c / "xsd").is_dir()), candidates[0])


IJW_SHARED = _official_ijw_folder()
JEUGDHULP = Path(sys.executable).parent / "jeugdhulp"
TINY_AS_OF = "2026-10-15"
TINY_SEED = 7


@dataclass
class PipelineRun:
    data_dir: Path
    env: dict[str, str]
    ground_truth: dict
    result: subprocess.CompletedProcess

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse" / "warehouse.duckdb"

    def run(self) -> subprocess.CompletedProcess:
        return run_cli(["run"], self.env)

    def dicts(self, sql: str) -> list[dict]:
        """The rows of a query on the run's warehouse (read-only), as dicts by column name."""
        import duckdb

        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            cursor = con.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]


def pipeline_env(data_dir: Path, as_of: str = TINY_AS_OF) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "JEUGDHULP_DATA_DIR": str(data_dir),
            "JEUGDHULP_AS_OF": as_of,
            "JEUGDHULP_PSEUDONYM_KEY": "test-key-not-secret",
            "DAGSTER_HOME": str(data_dir / ".dagster"),
        }
    )
    env.pop("JEUGDHULP_POSTGRES_DSN", None)
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: int = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JEUGDHULP), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def generate(
    data_dir: Path, *, profile: str = "tiny", seed: int = TINY_SEED, as_of: str = TINY_AS_OF
) -> dict[str, str]:
    """`jeugdhulp generate` into `data_dir` (it must succeed); the environment to run it with."""
    env = pipeline_env(data_dir, as_of)
    generated = run_cli(
        ["generate", "--out", str(data_dir), "--profile", profile, "--seed", str(seed),
         "--as-of", as_of],
        env,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    return env


def generate_and_run(
    data_dir: Path, *, profile: str = "tiny", seed: int = TINY_SEED, as_of: str = TINY_AS_OF
) -> PipelineRun:
    env = generate(data_dir, profile=profile, seed=seed, as_of=as_of)
    result = run_cli(["run"], env)
    truth = json.loads((data_dir / "ground_truth.json").read_text())
    return PipelineRun(data_dir=data_dir, env=env, ground_truth=truth, result=result)


def pristine_tiny_run(base: Path, dest: Path) -> PipelineRun:
    """A copy, at `dest`, of the tiny region (seed 7, as of 2026-10-15) after one `jeugdhulp run`.

    The run is made once per test session, in `base` (a folder every xdist worker of the session
    shares), under a file lock: the first worker to ask runs it, the others wait and copy. Each
    caller gets its own copy, so what one test does to its data dir no other test sees.
    """
    import fcntl
    import shutil

    cache = base / "pristine-tiny"
    base.mkdir(parents=True, exist_ok=True)
    with open(base / "pristine-tiny.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            outcome = cache / "outcome.json"
            if not outcome.exists():
                shutil.rmtree(cache, ignore_errors=True)
                run = generate_and_run(cache / "data")
                outcome.write_text(
                    json.dumps(
                        {
                            "returncode": run.result.returncode,
                            "stdout": run.result.stdout,
                            "stderr": run.result.stderr,
                        }
                    )
                )
            shutil.copytree(cache / "data", dest, symlinks=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    recorded = json.loads(outcome.read_text())
    result = subprocess.CompletedProcess(
        ["jeugdhulp", "run"], recorded["returncode"], recorded["stdout"], recorded["stderr"]
    )
    truth = json.loads((dest / "ground_truth.json").read_text())
    return PipelineRun(data_dir=dest, env=pipeline_env(dest), ground_truth=truth, result=result)
