"""A `dagster-webserver` on the project's code location, driven over its GraphQL API."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.pipeline import REPO

# The instance `jeugdhulp` writes for a data directory (orchestration/cli.py: offline, the
# single-writer warehouse pool, the event log that keeps its SQLite files open), plus an immediate
# run launch: no daemon runs beside the test's webserver.
RUN_COORDINATOR = """\
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
"""


def dagster_yaml(home: Path) -> str:
    from orchestration.cli import DAGSTER_YAML

    return DAGSTER_YAML.format(home=json.dumps(str(home.resolve()))[1:-1]) + RUN_COORDINATOR


LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}
"""

RUN_STATUS = """
query Status($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { status } }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Webserver:
    port: int
    process: subprocess.Popen

    def graphql(self, query: str, variables: dict | None = None, timeout: int = 60) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def repository(self) -> dict:
        data = self.graphql(
            "{ repositoriesOrError { ... on RepositoryConnection { nodes { name "
            "location { name } } } } }"
        )
        return data["repositoriesOrError"]["nodes"][0]

    def launch(self, job: str, run_config: dict, tags: dict[str, str] | None = None) -> str:
        repo = self.repository()
        params = {
            "selector": {
                "repositoryLocationName": repo["location"]["name"],
                "repositoryName": repo["name"],
                "jobName": job,
            },
            "runConfigData": run_config,
            "executionMetadata": {
                "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]
            },
        }
        result = self.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def wait_for_run(self, run_id: str, timeout: float = 900) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.graphql(RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
            if status in {"SUCCESS", "FAILURE", "CANCELED"}:
                return status
            time.sleep(2)
        raise TimeoutError(f"run {run_id} did not finish in {timeout} s")


@contextmanager
def running_webserver(home: Path, env: dict[str, str], timeout: float = 180) -> Iterator[Webserver]:
    """Start dagster-webserver with DAGSTER_HOME=`home` and wait until it serves the assets."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(dagster_yaml(home))
    port = free_port()
    log = open(home / "webserver.log", "wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-w",
            str(REPO / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO,
        env={**env, "DAGSTER_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Webserver(port=port, process=process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if server.graphql("{ assetNodes { id } }", timeout=30).get("assetNodes"):
                    break
            except (OSError, AssertionError):
                pass
            if process.poll() is not None:
                raise RuntimeError(
                    f"webserver exited: {(home / 'webserver.log').read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError("webserver did not serve the code location in time")
            time.sleep(1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
