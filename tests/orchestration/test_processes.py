"""Children end with `jeugdhulp run`, whatever kills it, and the next run starts clean.

The pipeline test kills `jeugdhulp run` (kill -9) while its `dbt build` runs, with a second run
refused meanwhile; every descendant must be gone within seconds, and the run after it must give
the ground truth's figures. The smaller tests kill the parent of one kind of child each: an
ingestion worker, the Great Expectations process, a program behind the exec wrapper.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jeugdhulp.ingest import ingest_all
from jeugdhulp.processes import (
    LOCK_NAME,
    RUN_TOKEN_ENV,
    SPOOL_FOLDER,
    RunLock,
    processes_with_token,
    wrapper_command,
    write_exec_wrapper,
)
from jeugdhulp.synthetic import generate
from tests.support.ingest_files import make_settings
from tests.support.pipeline import (
    JEUGDHULP,
    REPO,
    TINY_AS_OF,
    TINY_SEED,
    pipeline_env,
    run_cli,
)

GONE_WITHIN = 5.0  # seconds


# ---------------------------------------------------------------------------------- /proc


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(child) for child in children.read().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    found, waiting = [], _children(pid)
    while waiting:
        child = waiting.pop()
        found.append(child)
        waiting += _children(child)
    return found


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return [part.decode(errors="replace") for part in file.read().split(b"\0") if part]
    except OSError:
        return []


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed child stays a zombie until its parent reaps it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def started(pid: int) -> int | None:
    """The process's start time (clock ticks since boot): with the pid, its identity (pids are
    reused, and a busy test run goes round the 32,768 of a small pid_max in minutes)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return int(file.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def still_running(pids, since: dict[int, int | None] | None = None) -> list[int]:
    return [
        pid for pid in pids if running(pid) and (since is None or started(pid) == since.get(pid))
    ]


def kill_parent_and_watch(parent: subprocess.Popen, children: list[int]) -> list[int]:
    """kill -9 the parent, reap it, and return the children still running after GONE_WITHIN."""
    since = {pid: started(pid) for pid in children}
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    wait_until(lambda: not still_running(children, since), GONE_WITHIN)
    survivors = still_running(children, since)
    for pid in survivors:  # leave nothing behind for the other tests
        os.kill(pid, signal.SIGKILL)
    return survivors


def start_parent(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
    )


def first_descendant(parent: subprocess.Popen, timeout: float = 60.0, match=None) -> list[int]:
    """Wait until the parent has a descendant (matching `match(cmdline)`); all its descendants."""
    found = wait_until(
        lambda: any(match is None or match(cmdline(p)) for p in descendants(parent.pid)),
        timeout,
    )
    assert found, f"no child appeared (parent exit code {parent.poll()})"
    return descendants(parent.pid)


# ---------------------------------------------------------------------------------- one child


def test_an_ingestion_worker_ends_with_its_killed_parent():
    parent = start_parent(
        "import multiprocessing, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from jeugdhulp.ingest.worker import init_worker\n"
        "if __name__ == '__main__':\n"
        "    context = multiprocessing.get_context('spawn')\n"
        "    with ProcessPoolExecutor(1, mp_context=context, initializer=init_worker,\n"
        "                             initargs=('key',)) as pool:\n"
        "        pool.submit(time.sleep, 120).result()\n"
    )
    children = first_descendant(parent, match=lambda line: "spawn_main" in " ".join(line))
    time.sleep(1.0)  # the worker has run its initializer and sleeps in the task
    assert kill_parent_and_watch(parent, children) == []


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> Path:
    """A data dir with the tiny profile ingested (no dbt): a real raw layer for GX to read."""
    data_dir = tmp_path_factory.mktemp("ingested")
    generate(data_dir, profile="tiny", seed=TINY_SEED, as_of=date.fromisoformat(TINY_AS_OF))
    ingest_all(make_settings(data_dir), workers=1)
    return data_dir


def test_the_great_expectations_process_ends_with_its_killed_parent(ingested):
    parent = start_parent(
        "import sys\n"
        "from tests.support.ingest_files import make_settings\n"
        "from pathlib import Path\n"
        "from jeugdhulp.quality.gx_runner import run_suites_in_child\n"
        "if __name__ == '__main__':\n"
        "    run_suites_in_child(make_settings(Path(sys.argv[1])), ['raw.ijw_invoice_lines'],\n"
        "                        incremental=False)\n",
        str(ingested),
    )
    children = first_descendant(parent, match=lambda line: "spawn_main" in " ".join(line))
    time.sleep(0.5)  # importing Great Expectations: busy for seconds more
    assert kill_parent_and_watch(parent, children) == []


def test_a_program_behind_the_wrapper_ends_with_its_killed_parent(tmp_path):
    wrapper = write_exec_wrapper(tmp_path / "bin" / "sleep", "/bin/sleep")
    parent = start_parent(
        "import subprocess, sys, time\n"
        "from jeugdhulp.processes import wrapper_command\n"
        "subprocess.Popen([sys.argv[1], '120'])\n"  # the script, as dagster-dbt runs dbt
        "subprocess.Popen(wrapper_command(['sleep', '120']))\n"  # `-c` main, as the UI runs
        "time.sleep(120)\n",
        str(wrapper),
    )

    def sleeping() -> int:
        return sum(Path((cmdline(p) or [""])[0]).name == "sleep" for p in descendants(parent.pid))

    assert wait_until(lambda: sleeping() == 2, 30)
    children = descendants(parent.pid)
    assert kill_parent_and_watch(parent, children) == []


def test_a_child_whose_parent_died_before_it_asked_does_not_start(tmp_path):
    # the parent the wrapper is told about is not its parent: it has died (the race)
    started = time.monotonic()
    late = subprocess.run(wrapper_command(["sleep", "60"], parent_pid=os.getpid() + 10**6))
    assert late.returncode == 1 and time.monotonic() - started < 10
    # the script wrapper knows no pid: nobody reads its output any more
    wrapper = write_exec_wrapper(tmp_path / "sleep", "/bin/sleep")
    read_end, write_end = os.pipe()
    os.close(read_end)
    started = time.monotonic()
    orphan = subprocess.run([str(wrapper), "60"], stdout=write_end)
    os.close(write_end)
    assert orphan.returncode == 1 and time.monotonic() - started < 10


# ---------------------------------------------------------------------------------- the lock


def test_after_a_run_that_died_the_next_cleans_up_by_token_only(tmp_path):
    warehouse_dir = tmp_path / "warehouse"
    spools = warehouse_dir / SPOOL_FOLDER
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    (spools / f"run-{dead_pid}-abc").mkdir(parents=True)
    (spools / f"run-{dead_pid}-abc" / "rows.arrows").write_bytes(b"x")
    (spools / f"run-{os.getpid()}-def").mkdir()
    token = "0123456789abcdef0123456789abcdef"
    leftover = subprocess.Popen(["sleep", "120"], env={**os.environ, RUN_TOKEN_ENV: token})
    innocent = subprocess.Popen(["sleep", "120"], env={**os.environ, RUN_TOKEN_ENV: "other"})
    (warehouse_dir / LOCK_NAME).write_text(
        json.dumps({"pid": dead_pid, "pgid": dead_pid, "token": token, "started": "x"})
    )
    assert wait_until(lambda: processes_with_token(token) == [leftover.pid], 10)
    environment_before = os.environ.get(RUN_TOKEN_ENV)
    try:
        lock = RunLock(warehouse_dir)
        cleanup = lock.acquire()
        try:
            assert cleanup.killed == [leftover.pid]
            assert leftover.wait(timeout=5) == -signal.SIGKILL
            assert innocent.poll() is None
            assert cleanup.spools_removed == [f"run-{dead_pid}-abc"]
            assert sorted(p.name for p in spools.iterdir()) == [f"run-{os.getpid()}-def"]
            record = json.loads((warehouse_dir / LOCK_NAME).read_text())
            assert record["pid"] == os.getpid() and record["token"] == lock.token
            assert os.environ[RUN_TOKEN_ENV] == lock.token  # what children inherit
        finally:
            lock.release()
        assert (warehouse_dir / LOCK_NAME).read_text() == ""  # ended cleanly: nothing to clean
        assert os.environ.get(RUN_TOKEN_ENV) == environment_before
    finally:
        for process in (leftover, innocent):
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------- the pipeline


@dataclass
class Interrupted:
    data_dir: Path
    env: dict[str, str]
    refused: subprocess.CompletedProcess
    children: dict[int, list[str]]  # pid -> command line, when the run was killed
    survivors: list[int]
    with_token: list[int]


def _is_dbt_build(line: list[str]) -> bool:
    # dbt as the pipeline runs it: jeugdhulp-dbt (jeugdhulp/dbt_cli.py), or dbt itself
    names = {"dbt", "jeugdhulp-dbt"}
    return any(Path(part).name in names for part in line[:2]) and "build" in line


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> Interrupted:
    """`jeugdhulp run` on the tiny profile, a second run tried while it builds, then kill -9."""
    data_dir = tmp_path_factory.mktemp("killed")
    generate(data_dir, profile="tiny", seed=TINY_SEED, as_of=date.fromisoformat(TINY_AS_OF))
    env = pipeline_env(data_dir)
    with open(data_dir / "first_run.log", "w") as log:
        run = subprocess.Popen([str(JEUGDHULP), "run"], env=env, cwd=REPO, stdout=log, stderr=log)
    try:
        first_descendant(run, timeout=300, match=_is_dbt_build)
        refused = run_cli(["run"], env, timeout=120)
        children = {pid: cmdline(pid) for pid in descendants(run.pid)}
        assert any(_is_dbt_build(line) for line in children.values()), children
        token = json.loads((data_dir / "warehouse" / LOCK_NAME).read_text())["token"]
        survivors = kill_parent_and_watch(run, list(children))
        with_token = processes_with_token(token)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    return Interrupted(data_dir, env, refused, children, survivors, with_token)


@pytest.mark.slow
def test_a_second_run_is_refused_while_one_is_going(interrupted):
    assert interrupted.refused.returncode == 3, interrupted.refused.stderr
    assert "another `jeugdhulp run` is going" in interrupted.refused.stderr


@pytest.mark.slow
def test_every_child_ends_with_a_killed_run(interrupted):
    assert interrupted.survivors == [], {p: interrupted.children[p] for p in interrupted.survivors}
    assert interrupted.with_token == []


@pytest.mark.slow
def test_the_run_after_a_killed_one_starts_clean_and_gives_the_figures(interrupted):
    result = run_cli(["run"], interrupted.env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    truth = json.loads((interrupted.data_dir / "ground_truth.json").read_text())
    warehouse = interrupted.data_dir / "warehouse" / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        costs = con.execute(
            "select municipality_code, year(service_month), sum(amount_eur) "
            "from marts.mart_costs_monthly group by all"
        ).fetchall()
    finally:
        con.close()
    expected = {
        k: Decimal(v) for k, v in truth["accepted_cost_eur"]["by_municipality_year"].items()
    }
    assert {f"{m}|{y}": Decimal(str(v)) for m, y, v in costs} == expected
    assert (interrupted.data_dir / "warehouse" / LOCK_NAME).read_text() == ""


def test_the_wrapper_ends_its_program_even_when_the_signal_was_ignored(tmp_path):
    """SIGTERM ignored and blocked in the process that starts the wrapper (inherited through fork
    and exec, as under nohup or a test runner): the program still ends with its parent."""
    parent = start_parent(
        "import signal, subprocess, sys, time\n"
        "from jeugdhulp.processes import wrapper_command\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])\n"
        "subprocess.Popen(wrapper_command(['sleep', '120']))\n"
        "time.sleep(120)\n",
    )

    def sleeping() -> int:
        return sum(Path((cmdline(p) or [""])[0]).name == "sleep" for p in descendants(parent.pid))

    assert wait_until(lambda: sleeping() == 1, 30)
    assert kill_parent_and_watch(parent, descendants(parent.pid)) == []
