"""`jeugdhulp-dbt`: the dbt command line, parsing the project without the run's parameters.

dbt throws its saved parse (partial_parse.msgpack) away and parses every file again whenever the
command's `--vars` or the rendered profile differ from the ones it was saved with. The pipeline's
parameters (reporting date, warehouse path, DuckDB memory limit; docs/contract.md §1) travel as
`--vars` and the case-key secret goes into the profile, so each run in a new data directory, and
each backtest replay, paid a full parse (about 5 s CPU of a `dbt build`). None of them changes
what the parse produces: they are read when a model is compiled and run, and dbt compiles every
node again at run time with the command's own vars. tests/orchestration/test_dbt_cli.py holds
both: the parse without the parameters equals dbt's own parse with them, and a build that reuses
it takes its reporting date from the command.

So a command that builds (`build`, `run`, `seed`, `test`, ...) runs in two steps in this one
process: `dbt parse` without the run's parameters (no --vars, no PARAMETER_ENV), which reuses the
target's saved parse and re-parses only files changed since (dbt's own partial parsing, file by
file); then the command itself with the run's parameters, handed that parsed project
(`dbtRunner(manifest=...)`, dbt's documented way of skipping the parse). Every other command, and
one whose warehouse would name a different database than the parse's (the database is the file's
name, and dbt fixes it in the parse), is plain dbt.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from jeugdhulp.privacy.case_key import CASE_KEY_ENV
from jeugdhulp.settings import PROJECT_ROOT

# The environment variables through which a run's parameters may reach dbt (dbt_project.yml,
# profiles.yml): left out of the parse, so that it is the same for every run.
PARAMETER_ENV = (
    "JEUGDHULP_AS_OF",
    "JEUGDHULP_WAREHOUSE_PATH",
    "JEUGDHULP_DBT_MEMORY_LIMIT",
    CASE_KEY_ENV,
)
# Commands that compile and run nodes, so need the parsed project.
REUSING_COMMANDS = frozenset({"build", "run", "seed", "test", "compile", "snapshot", "show"})
# Options that say where the project, profile and target are: the parse step gets them too.
_LOCATION_OPTIONS = (
    "--project-dir",
    "--profiles-dir",
    "--target-path",
    "--log-path",
    "--profile",
    "--target",
)
# The project's own target folder: `ensure_dbt_manifest` (orchestration/resources.py) parses
# the project there, without the run's parameters, under the lock file beside it.
SHARED_TARGET = PROJECT_ROOT / "dbt_project" / "target"
PARSE_LOCK = SHARED_TARGET / ".parse.lock"
PARTIAL_PARSE = "partial_parse.msgpack"
# The database of the parse: the name of the profile's default warehouse file (profiles.yml,
# data/warehouse/warehouse.duckdb), the name every data dir's warehouse has. A command on a file
# named otherwise is plain dbt without a parse step first.
PARSE_DATABASE = "warehouse"


def parse_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the run's parameters: the environment every parse of the project sees."""
    return {name: value for name, value in env.items() if name not in PARAMETER_ENV}


def seed_partial_parse(target: Path) -> bool:
    """Give a target folder that has no saved parse a copy of the project's own, so that its
    first build re-parses only the files changed since (none, normally) instead of all. Read
    under the parse lock, never half-written. Whether a copy was made."""
    shared = SHARED_TARGET / PARTIAL_PARSE
    destination = Path(target) / PARTIAL_PARSE
    if destination.exists() or not shared.exists():
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{PARTIAL_PARSE}.{os.getpid()}")
    with open(PARSE_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        shutil.copyfile(shared, temporary)
    os.replace(temporary, destination)
    return True


def _option(args: Sequence[str], name: str) -> list[str]:
    """`name` and its value as given in `args` (`--name value` or `--name=value`), else []."""
    for position, arg in enumerate(args):
        if arg == name and position + 1 < len(args):
            return [arg, args[position + 1]]
        if arg.startswith(f"{name}="):
            return [arg]
    return []


def _warehouse_database(args: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The database the command's warehouse names (DuckDB: the file's name without suffix), when
    the command sets the warehouse; None: the profile's default, as in the parse."""
    from dbt.config.utils import parse_cli_vars

    given = _option(args, "--vars")
    text = given[1] if len(given) == 2 else given[0].split("=", 1)[1] if given else ""
    variables = parse_cli_vars(text) if text else {}
    path = variables.get("warehouse_path") or env.get("JEUGDHULP_WAREHOUSE_PATH")
    return Path(str(path)).stem if path else None


def _parse_without_parameters(args: Sequence[str]):
    """The project as `dbt parse` sees it without the run's parameters, or None if it fails
    (then the command parses itself and reports the error). Its output goes to dbt's log file
    only: the command's output is what a caller reads."""
    from dbt.cli.main import dbtRunner

    command = ["parse", "--log-level", "none", "--no-write-json"]
    for name in _LOCATION_OPTIONS:
        command += _option(args, name)
    # This process runs one dbt command and nothing else, so its environment is its own to
    # change: dbt reads the variables from os.environ at each invocation.
    run_env = dict(os.environ)
    os.environ.clear()
    os.environ.update(parse_env(run_env))
    try:
        result = dbtRunner().invoke(command)
    finally:
        os.environ.clear()
        os.environ.update(run_env)
    return result.result if result.success else None


def _databases(manifest) -> set[str]:
    return {
        node.database
        for node in manifest.nodes.values()
        if node.resource_type in ("model", "seed") and node.database
    }


def installed_versions() -> str:
    """What `dbt --version` says is installed, without its look-up of the latest releases on
    PyPI (one request per package at every call; the pipeline runs offline, and dagster-dbt asks
    for the version at every build)."""
    from importlib.metadata import version

    lines = ["Core:", f"  - installed: {version('dbt-core')}", "", "Plugins:"]
    lines.append(f"  - duckdb: {version('dbt-duckdb')}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-v"]):
        print(installed_versions())
        return 0
    from dbt.cli.main import cli, dbtRunner

    command = next((arg for arg in args if not arg.startswith("-")), None)
    database = _warehouse_database(args, os.environ)
    manifest = None
    if command in REUSING_COMMANDS and database in (None, PARSE_DATABASE):
        manifest = _parse_without_parameters(args)
        if manifest is not None and _databases(manifest) != {database or PARSE_DATABASE}:
            manifest = None
    if manifest is None:
        return cli.main(args=args, prog_name="dbt")  # plain dbt; exits with dbt's code
    result = dbtRunner(manifest=manifest).invoke(args)
    # dbt's exit codes: 0 success, 1 a node failed, 2 dbt itself failed (its events said why)
    if result.success:
        return 0
    return 1 if result.exception is None else 2


if __name__ == "__main__":
    sys.exit(main())
