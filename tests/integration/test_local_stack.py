"""End to end: `dynadag local` as a subprocess; rows written with plain boto3 become DAG files.

Each step waits (bounded polling) for the effect a user would see: the S3 versions of
the DAG's file, the registry item, the mirrored file and the printed line.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.registry import DagRecord, Registry

pytestmark = pytest.mark.moto

DAG = "job-e2e_load"
KEY = f"dags/{DAG}.py"
STARTUP_TIMEOUT = 90
DYNADAG = str(Path(sys.executable).parent / "dynadag")
STEP_TIMEOUT = 30


@dataclass
class LocalProcess:
    """A running `dynadag local` and what it printed so far."""

    process: subprocess.Popen[str]
    endpoint: str
    bucket: str
    dags_folder: Path
    lines: queue.Queue[str]
    seen: list[str]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint)

    def mark(self) -> int:
        """The number of lines printed so far: pass it as `after` to wait for newer ones."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.seen.append(self.lines.get_nowait())
        return len(self.seen)

    def wait_for_line(self, pattern: str, after: int = 0, timeout: float = STEP_TIMEOUT) -> str:
        """The first line printed after line number `after` that matches `pattern`."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            for line in self.seen[after:]:
                if regex.search(line):
                    return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.seen))
            try:
                self.seen.append(self.lines.get(timeout=min(remaining, 0.5)))
            except queue.Empty:
                if self.process.poll() is not None:
                    raise AssertionError("dynadag local exited:\n" + "\n".join(self.seen)) from None


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalProcess]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "250"}
    process = subprocess.Popen(
        [DYNADAG, "local", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    running = LocalProcess(process, "", "", tmp_path / ".dynadag" / "dags", lines, [])
    try:
        ready = running.wait_for_line(
            r"dynadag local is ready: http://127\.0\.0\.1:\d+", timeout=STARTUP_TIMEOUT
        )
        running.endpoint = ready.split(": ", 1)[1].split()[0]
        exports = running.wait_for_line(r"export AWS_ENDPOINT_URL=")
        running.bucket = re.search(r"DYNADAG_BUCKET=(\S+)", exports)[1]  # type: ignore[index]
        for name, value in re.findall(r"(\w+)=(\S+)", exports):
            monkeypatch.setenv(name, value)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def wait_until(what: str, check: Callable[[], Any], timeout: float = STEP_TIMEOUT) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


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
    registry = Registry(dynamodb, "dynadag_registry")
    mirrored = local.dags_folder / f"{DAG}.py"

    def record() -> DagRecord:
        found = registry.get_dag(DAG)
        assert found is not None
        return found

    # GIVEN two tasks and a job listing them
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_task", Item=task_item("1", "SELECT 1;"))
    dynamodb.put_item(TableName="mwaa_task", Item=task_item("2", "SELECT 2;"))
    dynamodb.put_item(TableName="mwaa_job", Item=job_item(1))
    # THEN one line per row is printed, and the DAG file appears, registered and mirrored
    lines = [
        local.wait_for_line(rf"INSERT mwaa_task\[task_id='{task_id}'\] →", mark)
        for task_id in ("1", "2")
    ]
    lines.append(local.wait_for_line(r"INSERT mwaa_job\[job_type='etl', job_id='42'\] →", mark))
    assert sum("wrote job-e2e_load" in line for line in lines) == 1, lines
    (first,) = versions(s3, local.bucket)
    assert "SELECT 1;" in body(s3, local.bucket)
    assert record().version_id == first["VersionId"]
    wait_until("the mirrored file", mirrored.exists)
    assert mirrored.read_text() == body(s3, local.bucket)

    # WHEN a task's SQL changes THEN a second version is written
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_task", Item=task_item("1", "SELECT 11;"))
    line = local.wait_for_line(r"MODIFY mwaa_task\[task_id='1'\] →", mark)
    assert "→ wrote job-e2e_load" in line
    assert len(versions(s3, local.bucket)) == 2
    assert "SELECT 11;" in body(s3, local.bucket)
    assert record().outcome == "written"
    assert record().version_id == versions(s3, local.bucket)[0]["VersionId"]
    wait_until("the mirror to follow", lambda: "SELECT 11;" in mirrored.read_text())

    # WHEN the job lists a task that does not exist THEN it is rejected, the file stays
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_job", Item=job_item(1, task_list="1,2,9"))
    line = local.wait_for_line(r"MODIFY mwaa_job\[job_type='etl', job_id='42'\] →", mark)
    assert "rejected job-e2e_load" in line
    assert "'9'" in line and "last good file kept" in line
    assert record().outcome == "invalid" and any("'9'" in p for p in record().problems)
    assert len(versions(s3, local.bucket)) == 2

    # WHEN the job is disabled THEN the file is deleted (a delete marker)
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_job", Item=job_item(0))
    line = local.wait_for_line(r"MODIFY mwaa_job\[job_type='etl', job_id='42'\] \(disabled\)", mark)
    assert "→ deleted job-e2e_load" in line
    assert versions(s3, local.bucket)[0]["marker"]
    assert record().outcome == "deleted"
    wait_until("the mirrored file to go", lambda: not mirrored.exists())

    # WHEN the job row is deleted THEN nothing more is written to S3
    mark = local.mark()
    dynamodb.delete_item(
        TableName="mwaa_job", Key={"job_type": {"S": "etl"}, "job_id": {"S": "42"}}
    )
    local.wait_for_line(r"REMOVE mwaa_job\[job_type='etl', job_id='42'\] \(row removed\)", mark)
    assert len(versions(s3, local.bucket)) == 3

    # WHEN the operator rolls back to version 1 THEN it is restored past the delete marker
    result = CliRunner().invoke(app, ["rollback", DAG, "--to", "1"])
    assert result.exit_code == 0, result.output
    latest = versions(s3, local.bucket)[0]
    assert not latest["marker"] and len(versions(s3, local.bucket)) == 4
    assert body(s3, local.bucket) == body(s3, local.bucket, first["VersionId"])
    assert record().outcome == "rolled-back" and record().rolled_back_from == first["VersionId"]
    wait_until(
        "the mirror to restore", lambda: mirrored.exists() and "SELECT 1;" in mirrored.read_text()
    )

    # WHEN the job is re-enabled THEN it is recompiled from the current rows over the rollback
    mark = local.mark()
    dynamodb.put_item(TableName="mwaa_job", Item=job_item(1))
    line = local.wait_for_line(r"INSERT mwaa_job\[job_type='etl', job_id='42'\] →", mark)
    assert "→ wrote job-e2e_load" in line
    assert len(versions(s3, local.bucket)) == 5
    assert "SELECT 11;" in body(s3, local.bucket)
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


def test_a_missing_seed_file_is_one_clear_error_and_nothing_keeps_running(tmp_path: Path) -> None:
    done = subprocess.run(
        [DYNADAG, "local", "--port", "0", "--seed", str(tmp_path / "nope.json")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=False,
    )

    assert done.returncode == 1
    assert f"error: {tmp_path / 'nope.json'}: no such file or directory" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("stopped")
