"""The data directory's Dagster event log: Dagster's own SQLite files, each opened once."""

from __future__ import annotations

import shutil

from dagster import DagsterEventType, DagsterInstance, asset, materialize
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration import event_log
from orchestration.cli import write_dagster_yaml
from orchestration.event_log import DataDirEventLogStorage


@asset
def counted() -> int:
    return 1


def _instance(home) -> DagsterInstance:
    write_dagster_yaml(home / "dagster.yaml")
    return DagsterInstance.from_config(str(home))


def test_the_instance_of_a_data_dir_uses_it_and_dagster_reads_what_it_wrote(tmp_path):
    with _instance(tmp_path) as instance:
        assert isinstance(instance.event_log_storage, DataDirEventLogStorage)
        result = materialize([counted], instance=instance)
        assert result.success
        run_id = result.run_id
        written = [e.dagster_event_type for e in instance.all_logs(run_id) if e.is_dagster_event]

    # The UI (or any Dagster process) opens the same files with Dagster's own storage.
    plain = SqliteEventLogStorage(str(tmp_path / "history" / "runs"))
    try:
        read = [e.dagster_event_type for e in plain.get_logs_for_run(run_id) if e.is_dagster_event]
        assert read == written
        assert DagsterEventType.ASSET_MATERIALIZATION in read
        latest = plain.get_latest_materialization_events([counted.key])[counted.key]
        assert latest is not None and latest.run_id == run_id
    finally:
        plain.dispose()


def test_no_more_than_a_few_files_stay_open(tmp_path, monkeypatch):
    monkeypatch.setattr(event_log, "OPEN_SHARDS", 3)
    with _instance(tmp_path) as instance:
        runs = [materialize([counted], instance=instance).run_id for _ in range(5)]
        storage = instance.event_log_storage
        assert len(storage._engines) == 3
        # A run whose file was closed is opened again on demand, its events all there.
        assert all(
            DagsterEventType.RUN_SUCCESS in {e.dagster_event_type for e in instance.all_logs(run_id)}
            for run_id in runs
        )  # fmt: skip
        assert len(storage._engines) == 3
    assert storage._engines == {}


def test_a_copied_data_dir_keeps_its_events_in_its_own_folder(tmp_path):
    first = tmp_path / "first" / ".dagster"
    first.mkdir(parents=True)
    with _instance(first) as instance:
        materialize([counted], instance=instance)
    copy = tmp_path / "copy" / ".dagster"
    copy.parent.mkdir()
    shutil.copytree(first, copy)
    before = sorted(p.name for p in (first / "history" / "runs").iterdir())
    with _instance(copy) as instance:
        run_id = materialize([counted], instance=instance).run_id
    assert sorted(p.name for p in (first / "history" / "runs").iterdir()) == before
    assert (copy / "history" / "runs" / f"{run_id}.db").exists()


def test_a_hand_written_dagster_yaml_is_left_alone(tmp_path):
    config = tmp_path / "dagster.yaml"
    config.write_text("telemetry:\n  enabled: false\n")
    write_dagster_yaml(config)
    assert config.read_text() == "telemetry:\n  enabled: false\n"
