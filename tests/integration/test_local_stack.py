"""End to end: `dynadag local` as a subprocess; rows written with plain boto3 become DAG files.

Each step waits (bounded polling) for the effect a user would see: the S3 versions of
the DAG's file, the registry item, the mirrored file and the printed line.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.local.process import DYNADAG, LocalProcess
from lambda_compiler.local.resources import read_resources
from lambda_compiler.registry import DagRecord, Registry
from tests.waiting import wait_until

pytestmark = pytest.mark.moto

DAG = "job-e2e_load"
KEY = f"dags/{DAG}.py"
STARTUP_TIMEOUT = 90
STEP_TIMEOUT = 30


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalProcess]:
    running = LocalProcess(tmp_path / ".dynadag", timeout=STARTUP_TIMEOUT)
    for name, value in running.env.items():
        monkeypatch.setenv(name, value)
    try:
        yield running
    finally:
        running.stop()


def versions(s3: Any, bucket: str) -> list[dict[str, Any]]:
    """The DAG's versions and delete markers, newest first."""
    listing = s3.list_object_versions(Bucket=bucket, Prefix=KEY)
    entries = [{**v, "marker": False} for v in listing.get("Versions", [])]
    entries += [{**m, "marker": True} for m in listing.get("DeleteMarkers", [])]
    return sorted(entries, key=lambda e: (e["LastModified"], e["IsLatest"]), reverse=True)


def body(s3: Any, bucket: str, version_id: str | None = None) -> str:
    extra = {"VersionId": version_id} if version_id else {}
    return s3.get_object(Bucket=bucket, Key=KEY, **extra)["Body"].read().decode()


def task_item(task_id: str, sql: str) -> dict[str, Any]:
    return {
        "task_id": {"S": task_id},
        "task_name": {"S": f"step_{task_id}"},
        "task_type": {"S": "REDSHIFT-SQL"},
        "task_params": {"S": json.dumps({"sql": sql})},
        "status": {"N": "1"},
    }


def job_item(status: int, task_list: str = "1,2") -> dict[str, Any]:
    return {
        "job_type": {"S": "etl"},
        "job_id": {"S": "42"},
        "job_name": {"S": "e2e_load"},
        "task_list": {"S": task_list},
        "job_task_dependencies": {"S": '[{"task_id": "2", "pid": "1"}]'},
        "status": {"N": str(status)},
    }


def test_rows_written_with_boto3_become_dag_files_through_every_lifecycle_step(
    local: LocalProcess,
) -> None:
    s3, dynamodb = local.client("s3"), local.client("dynamodb")
    bucket = local.env["DYNADAG_BUCKET"]
    registry = Registry(dynamodb, "dynadag_registry")
    mirrored = local.dags_folder / f"{DAG}.py"

    def record() -> DagRecord:
        found = registry.get_dag(DAG)
        assert found is not None
        return found

    # GIVEN the stack created every queue of template.yaml, and two tasks and a job
    queues = {url.rsplit("/", 1)[1] for url in local.client("sqs").list_queues()["QueueUrls"]}
    assert {queue.name for queue in read_resources().queues.values()} <= queues
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_task", Item=task_item("1", "SELECT 1;"))
    dynamodb.put_item(TableName="mwaa_task", Item=task_item("2", "SELECT 2;"))
    dynamodb.put_item(TableName="mwaa_job", Item=job_item(1))
    # THEN one line per row is printed, and the DAG file appears, registered and mirrored
    lines = [
        local.wait_for_line(rf"INSERT mwaa_task\[task_id='{task_id}'\] →", after=mark)
        for task_id in ("1", "2")
    ]
    lines.append(
        local.wait_for_line(r"INSERT mwaa_job\[job_type='etl', job_id='42'\] →", after=mark)
    )
    assert sum("wrote job-e2e_load" in line for line in lines) == 1, lines
    (first,) = versions(s3, bucket)
    assert "SELECT 1;" in body(s3, bucket)
    assert record().version_id == first["VersionId"]
    wait_until("the mirrored file", mirrored.exists)
    assert mirrored.read_text() == body(s3, bucket)

    # WHEN a task's SQL changes THEN a second version is written
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_task", Item=task_item("1", "SELECT 11;"))
    line = local.wait_for_line(r"MODIFY mwaa_task\[task_id='1'\] →", after=mark)
    assert "→ wrote job-e2e_load" in line
    assert len(versions(s3, bucket)) == 2
    assert "SELECT 11;" in body(s3, bucket)
    assert record().outcome == "written"
    assert record().version_id == versions(s3, bucket)[0]["VersionId"]
    wait_until("the mirror to follow", lambda: "SELECT 11;" in mirrored.read_text())

    # WHEN the job lists a task that does not exist THEN it is rejected, the file stays
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_job", Item=job_item(1, task_list="1,2,9"))
    line = local.wait_for_line(r"MODIFY mwaa_job\[job_type='etl', job_id='42'\] →", after=mark)
    assert "rejected job-e2e_load" in line
    assert "'9'" in line and "last good file kept" in line
    assert record().outcome == "invalid" and any("'9'" in p for p in record().problems)
    assert len(versions(s3, bucket)) == 2

    # WHEN the job is disabled THEN the file is deleted (a delete marker)
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_job", Item=job_item(0))
    line = local.wait_for_line(
        r"MODIFY mwaa_job\[job_type='etl', job_id='42'\] \(disabled\)", after=mark
    )
    assert "→ deleted job-e2e_load" in line
    assert versions(s3, bucket)[0]["marker"]
    assert record().outcome == "deleted"
    wait_until("the mirrored file to go", lambda: not mirrored.exists())

    # WHEN the job row is deleted THEN nothing more is written to S3
    mark = local.mark()
    dynamodb.delete_item(
        TableName="mwaa_job", Key={"job_type": {"S": "etl"}, "job_id": {"S": "42"}}
    )
    local.wait_for_line(
        r"REMOVE mwaa_job\[job_type='etl', job_id='42'\] \(row removed\)", after=mark
    )
    assert len(versions(s3, bucket)) == 3

    # WHEN the operator rolls back to version 1 THEN it is restored past the delete marker
    result = CliRunner().invoke(app, ["rollback", DAG, "--to", "1", "--until-next-change"])
    assert result.exit_code == 0, result.output
    latest = versions(s3, bucket)[0]
    assert not latest["marker"] and len(versions(s3, bucket)) == 4
    assert body(s3, bucket) == body(s3, bucket, first["VersionId"])
    assert record().outcome == "rolled-back" and record().rolled_back_from == first["VersionId"]
    wait_until(
        "the mirror to restore", lambda: mirrored.exists() and "SELECT 1;" in mirrored.read_text()
    )

    # WHEN the job is re-enabled THEN it is recompiled from the current rows over the rollback
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_job", Item=job_item(1))
    line = local.wait_for_line(r"INSERT mwaa_job\[job_type='etl', job_id='42'\] →", after=mark)
    assert "→ wrote job-e2e_load" in line
    assert len(versions(s3, bucket)) == 5
    assert "SELECT 11;" in body(s3, bucket)
    assert record().outcome == "written" and record().rolled_back_from is None
    wait_until("the mirror to follow", lambda: "SELECT 11;" in mirrored.read_text())

    # WHEN Ctrl-C THEN everything stops cleanly
    local.process.send_signal(signal.SIGINT)
    assert local.process.wait(timeout=30) == 0
    local.wait_for_line(r"^stopped$")
    assert not any("Traceback" in line for line in local.seen), "\n".join(local.seen)


def test_sigterm_stops_the_local_stack_cleanly(local: LocalProcess) -> None:
    local.process.send_signal(signal.SIGTERM)

    assert local.process.wait(timeout=30) == 0
    local.wait_for_line(r"^stopped$")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no such file or directory"),
        (
            b'{"mwaa_task": [{"task_id": "1", "task_id": "2"}]}',
            "key 'task_id' appears twice in the same object, at mwaa_task item 1",
        ),
    ],
    ids=["missing", "duplicate-key"],
)
def test_a_bad_seed_file_is_one_clear_error_and_nothing_keeps_running(
    tmp_path: Path, content: bytes | None, says: str
) -> None:
    seed = tmp_path / "seed.json"
    if content is not None:
        seed.write_bytes(content)
    done = subprocess.run(
        [DYNADAG, "local", "--port", "0", "--seed", str(seed)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=False,
    )

    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {seed}: {says}"]
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("stopped")


def test_local_on_a_busy_port_says_so() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = CliRunner().invoke(app, ["local", "--port", str(port)])

    assert result.exit_code == 1
    assert f"127.0.0.1:{port} is already in use; choose --port" in result.stderr
    assert "Traceback" not in result.output
