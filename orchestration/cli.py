"""The `jeugdhulp` command: generate synthetic data, run the pipeline, open the UI, or do a demo."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from jeugdhulp.processes import RunBusy, RunLock, wrapper_command
from jeugdhulp.settings import (
    DEVELOPMENT_PSEUDONYM_KEY,
    PROJECT_ROOT,
    Settings,
    SettingsError,
    automation_enabled,
    load_settings,
    parse_as_of,
)

PROFILES = ("tiny", "region", "national")
DEFAULT_SEED = 2015  # the year the Jeugdwet came into force

DAGSTER_YAML_MARK = "# Written by `jeugdhulp`: local instance for this data directory."
DAGSTER_YAML = f"""\
{DAGSTER_YAML_MARK}
telemetry:
  enabled: false
# no "join the community" dialog: the UI runs offline, for data engineers at work
nux:
  enabled: false
concurrency:
  pools:
    # DuckDB allows one writer: every asset that opens the warehouse is in pool "warehouse".
    default_limit: 1
# Dagster's SQLite event log, opened once per file instead of once per event
# (orchestration/event_log.py); run and schedule storage stay Dagster's defaults.
event_log_storage:
  module: orchestration.event_log
  class: DataDirEventLogStorage
  config:
    base_dir: "{{home}}"
"""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _loud_development_key_warning() -> None:
    _say("!" * 78)
    _say("!  JEUGDHULP_PSEUDONYM_KEY is not set: using the built-in DEVELOPMENT key.")
    _say("!  Fine for synthetic data only. Never run real BSNs through this key.")
    _say("!" * 78)


def _is_synthetic(settings: Settings) -> bool:
    """The generator leaves ground_truth.json beside landing/; real deliveries never have one."""
    return (settings.data_dir / "ground_truth.json").exists()


def _resolve_pseudonym_key(
    settings: Settings, *, allow_development_key: bool
) -> tuple[Settings, bool]:
    """The settings with a pseudonym key, and whether it is the development key.

    The development key travels as run config (`allow_development_key`), never through this
    process's environment; a real key stays in JEUGDHULP_PSEUDONYM_KEY only.
    """
    if settings.pseudonym_key:
        return settings, False
    if allow_development_key or _is_synthetic(settings):
        _loud_development_key_warning()
        return replace(settings, pseudonym_key=DEVELOPMENT_PSEUDONYM_KEY), True
    raise SettingsError(
        "JEUGDHULP_PSEUDONYM_KEY is not set. `jeugdhulp run` on real data needs the secret key "
        "that pseudonymises BSNs (keep it the same between runs, or client keys change). "
        "Only synthetic data (a data dir made by `jeugdhulp generate`) may run without one."
    )


def _prepare_dagster_home(settings: Settings) -> Path:
    """The Dagster instance directory: DAGSTER_HOME, else <data dir>/.dagster (created here)."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / ".dagster")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    write_dagster_yaml(config)
    return home


def write_dagster_yaml(config: Path) -> None:
    """The instance's dagster.yaml, written when missing or when `jeugdhulp` wrote it for another
    folder (a copied data directory): its event log lives in this folder. A dagster.yaml written
    by hand is left as it is."""
    wanted = DAGSTER_YAML.format(home=json.dumps(str(config.parent.resolve()))[1:-1])
    current = config.read_text() if config.exists() else None
    if current is None or (current != wanted and current.startswith(DAGSTER_YAML_MARK)):
        config.write_text(wanted)


# ---------------------------------------------------------------------------------- generate


def cmd_generate(args: argparse.Namespace) -> int:
    from jeugdhulp.synthetic import generate

    as_of = parse_as_of(args.as_of) if args.as_of else load_settings().as_of
    out = Path(args.out).resolve()
    _say(f"generating profile '{args.profile}' (seed {args.seed}, as of {as_of}) into {out}")
    started = time.monotonic()
    summary = generate(out, profile=args.profile, seed=args.seed, as_of=as_of, progress=True)
    _say(f"done in {time.monotonic() - started:.1f} s: {summary}")
    return 0


# ---------------------------------------------------------------------------------- run


def cmd_run(args: argparse.Namespace) -> int:
    settings, development_key = _resolve_pseudonym_key(
        load_settings(), allow_development_key=getattr(args, "allow_development_key", False)
    )
    if not settings.landing_dir.exists() and not settings.warehouse_path.exists():
        raise SettingsError(
            f"nothing to do: {settings.landing_dir} does not exist. Set JEUGDHULP_DATA_DIR, or "
            f"make synthetic data with `jeugdhulp generate --out {settings.data_dir}`."
        )
    # One run per data directory at a time; after one that was killed, its leftovers go first.
    # Every child carries this run's token and ends with it (jeugdhulp/processes.py). The run
    # stays in the terminal's process group, so Ctrl-C still reaches it and its children.
    with RunLock(settings.warehouse_path.parent) as lock:
        for line in lock.cleanup.lines():
            _say(f"  {line}")
        home = _prepare_dagster_home(settings)
        _say(f"running the pipeline on {settings.data_dir} as of {settings.as_of}")

        from dagster import DagsterInstance

        from orchestration.pipeline_run import run_pipeline

        # The flags and environment variables become the run's config (orchestration/resources.py).
        with DagsterInstance.from_config(str(home)) as instance:
            summary = run_pipeline(
                settings,
                log_level=args.log_level,
                allow_development_key=development_key,
                instance=instance,
            )
    print(summary.render())
    return 0 if summary.ok else 1


# ---------------------------------------------------------------------------------- ui


def cmd_ui(args: argparse.Namespace) -> int:
    settings, development_key = _resolve_pseudonym_key(load_settings(), allow_development_key=False)
    home = _prepare_dagster_home(settings)
    from orchestration.resources import ensure_dbt_manifest

    ensure_dbt_manifest()
    dagster = Path(sys.executable).parent / "dagster"
    # `dagster dev` gets SIGTERM when this process ends, however it ends (Dagster treats it as
    # Ctrl-C and stops its webserver and daemon): no UI keeps running without its command.
    command = wrapper_command(
        [
            str(dagster),
            "dev",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            "--host",
            args.host,
            "--port",
            str(args.port),
        ],
        signal.SIGTERM,
    )
    # The UI's processes get the instance and (synthetic data only) the development key in their
    # own environment; this process's environment stays as it was.
    child_env = {**os.environ, "DAGSTER_HOME": str(home)}
    if development_key:
        child_env["JEUGDHULP_PSEUDONYM_KEY"] = DEVELOPMENT_PSEUDONYM_KEY
    _say(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it)")
    if automation_enabled():
        _say(
            "  schedules and the landing sensor start RUNNING "
            "(JEUGDHULP_AUTOMATION=off starts them stopped)"
        )
    return subprocess.call(command, cwd=PROJECT_ROOT, env=child_env)


# ---------------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    generate_args = argparse.Namespace(
        out=str(settings.data_dir),
        profile="region",
        seed=args.seed,
        as_of=settings.as_of.isoformat(),
    )
    cmd_generate(generate_args)
    code = cmd_run(argparse.Namespace(log_level=args.log_level, allow_development_key=True))
    _say("")
    _say("Where to look:")
    _say(f"  region report:        {settings.published_dir / 'intern' / 'regio' / 'index.html'}")
    leiden = settings.published_dir / "openbaar" / "GM0546" / "index.html"
    _say(f"  a municipality:       {leiden} (Leiden, openbaar)")
    _say(f"  warehouse (DuckDB):   {settings.warehouse_path}  (schema marts)")
    _say("  the Dagster UI:       make ui")
    return code


# ---------------------------------------------------------------------------------- quarantine


def cmd_quarantine(args: argparse.Namespace) -> int:
    """Take an ingested file out again (jeugdhulp/ingest/takeout.py): one line on refusal."""
    from jeugdhulp.ingest.takeout import TakeoutError, take_out

    settings = load_settings()
    try:
        # not while a run writes the warehouse (a busy lock: exit 3, as for a second run)
        with RunLock(settings.warehouse_path.parent):
            done = take_out(settings, args.file, args.reason)
    except TakeoutError as error:
        _say(f"jeugdhulp quarantine: {error}")
        return 1
    print("\n".join(done.describe()))
    return 0


# ---------------------------------------------------------------------------------- backtest


def _parse_dates(value: str) -> list[date]:
    try:
        return sorted({parse_as_of(part.strip()) for part in value.split(",") if part.strip()})
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def cmd_backtest(args: argparse.Namespace) -> int:
    """Replay the reporting dates of a year on copies of the warehouse and record the forecast's
    and the naive annualisation's errors (jeugdhulp/forecasting/backtest.py)."""
    import shutil
    import tempfile

    from jeugdhulp.forecasting import backtest
    from orchestration.resources import dbt_executable

    settings = load_settings()
    live = settings.warehouse_path
    if not live.exists():
        raise SettingsError(
            f"no warehouse at {live}: a backtest replays the warehouse a run built. Set "
            "JEUGDHULP_DATA_DIR to the data directory, or run `jeugdhulp run` first."
        )
    dates = args.dates or backtest.reporting_dates(args.year)
    outside = [d for d in dates if d.year != args.year]
    if outside:
        raise SettingsError(
            f"--dates must lie in {args.year}: {', '.join(d.isoformat() for d in outside)}"
        )
    try:
        backtest.check_mature(args.year, settings.as_of)
    except backtest.BacktestError as error:
        _say(f"jeugdhulp backtest: {error}")
        return 1
    scratch = Path(tempfile.mkdtemp(prefix=".backtest-", dir=settings.data_dir))
    dbt = dbt_executable()
    try:
        with RunLock(live.parent):
            backtest.check_built(live)
            backtest.snapshot_warehouse(live, scratch / "base.duckdb")
        _say(
            f"backtest {args.year}: replaying {len(dates)} reporting dates on copies of {live} "
            f"(the final cost as of {settings.as_of})"
        )

        def progress(number: int, total: int, replay: backtest.Replay) -> None:
            _say(
                f"  [{number}/{total}] {replay.reporting_date}: forecast of "
                f"{len(replay.rows)} providers in {replay.seconds:.0f} s"
            )

        replays = backtest.run_replays(
            live,
            scratch,
            args.year,
            dates,
            dbt=dbt,
            memory_limit=settings.dbt_memory_limit,
            progress=progress,
        )
        with RunLock(live.parent):
            written = backtest.land_replays(live, replays, datetime.now())
            backtest.dbt_run(
                live,
                settings.as_of,
                scratch,
                backtest.RESULT_MODELS,
                dbt=dbt,
                memory_limit=settings.dbt_memory_limit,
            )
        _say(
            f"recorded {written} provider forecasts in {backtest.REPLAY_TABLE}; errors in "
            "marts.mart_forecast_backtest and mart_forecast_backtest_summary (the next run's "
            "report shows them)"
        )
        print(backtest.format_summary(backtest.summary_rows(live, args.year)))
    except backtest.BacktestError as error:
        _say(f"jeugdhulp backtest: {error}")
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jeugdhulp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="write a synthetic landing zone")
    gen.add_argument(
        "--out", required=True, help="directory to write landing/ and ground_truth.json into"
    )
    gen.add_argument("--profile", choices=PROFILES, default="region")
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED)
    gen.add_argument(
        "--as-of",
        dest="as_of",
        help="YYYY-MM-DD; only what arrived by then is written (default: JEUGDHULP_AS_OF or today)",
    )
    gen.set_defaults(handler=cmd_generate)

    run = commands.add_parser("run", help="materialise the whole pipeline in-process and summarise")
    run.add_argument(
        "--log-level", default="WARNING", help="Dagster console log level (default WARNING)"
    )
    run.set_defaults(handler=cmd_run)

    ui = commands.add_parser("ui", help="start the Dagster UI on this project")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(handler=cmd_ui)

    demo = commands.add_parser(
        "demo", help="generate the region profile into the data dir, then run"
    )
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED)
    demo.add_argument("--log-level", default="WARNING")
    demo.set_defaults(handler=cmd_demo)

    quarantine = commands.add_parser(
        "quarantine",
        help="take an ingested file out again: its rows leave raw, the file moves to quarantine",
    )
    quarantine.add_argument(
        "file",
        help="the file: its SHA-256, a unique prefix of at least 12 characters, or its path "
        "(landed or stored as raw.file_registry records it, or the archived file)",
    )
    quarantine.add_argument(
        "--reason", required=True, help="why (kept in the registry and the .reason.txt)"
    )
    quarantine.set_defaults(handler=cmd_quarantine)

    backtest = commands.add_parser(
        "backtest",
        help="replay the reporting dates of a year on copies of the warehouse and record the "
        "forecast's and the naive annualisation's errors",
    )
    backtest.add_argument("--year", type=int, required=True, help="a mature year (YYYY)")
    backtest.add_argument(
        "--dates",
        type=_parse_dates,
        default=None,
        help="comma-separated reporting dates YYYY-MM-DD in the year (default: its 12 month-ends)",
    )
    backtest.set_defaults(handler=cmd_backtest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as error:
        _say(f"jeugdhulp: {error}")
        return 2
    except RunBusy as error:
        _say(f"jeugdhulp: {error}")
        return 3
    except KeyboardInterrupt:
        _say("jeugdhulp: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
