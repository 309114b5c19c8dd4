"""`dynadag local` runs the fan-out: its queue workers build the start-up rebuild and a
stream change above the bound, while an unrelated change lands right away."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from lambda_compiler.local.process import LocalProcess
from tests.rowkit import job, task
from tests.waiting import wait_until

pytestmark = pytest.mark.moto
SHARED_BY = 24
_serialize = TypeSerializer().serialize


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalProcess]:
    rows = {
        "mwaa_task": [task("1"), task("2")],
        "mwaa_job": [*(job(f"{n}", "1") for n in range(SHARED_BY)), job("solo", "2")],
    }
    seed = tmp_path / "rows.json"
    seed.write_text(json.dumps(rows))
    monkeypatch.setenv("DYNADAG_OFFLOAD_ABOVE", "10")
    monkeypatch.setenv("DYNADAG_BATCH_ROWS", "6")
    running = LocalProcess(
        tmp_path / ".dynadag", seed=seed, options=("--queue-workers", "2"), timeout=120
    )
    try:
        yield running
    finally:
        running.stop()


def bodies(s3: Any, bucket: str) -> dict[str, str]:
    """The job DAG files now in the bucket, by key."""
    listing = s3.list_objects_v2(Bucket=bucket, Prefix="dags/job-").get("Contents", [])
    return {
        item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        for item in listing
    }


def test_a_shared_task_fans_out_to_queue_workers_without_blocking_the_stream(
    local: LocalProcess,
) -> None:
    s3, dynamodb = local.client("s3"), local.client("dynamodb")
    bucket = local.env["DYNADAG_BUCKET"]
    wait_until("the seeded DAGs", lambda: len(bodies(s3, bucket)) == SHARED_BY + 1, timeout=60)

    # WHEN the task every job lists changes, then an unrelated task right after
    dynamodb.put_item(
        TableName="mwaa_task",
        Item={k: _serialize(v) for k, v in task("1", name="fanned_out").items()},
    )
    dynamodb.put_item(
        TableName="mwaa_task",
        Item={k: _serialize(v) for k, v in task("2", name="unrelated").items()},
    )

    # THEN both land: the 24 jobs through the queue workers, the solo job through the stream
    wait_until(
        "the unrelated change",
        lambda: "unrelated" in bodies(s3, bucket)["dags/job-job_solo.py"],
        timeout=60,
    )
    wait_until(
        "every job of the shared task",
        lambda: all("fanned_out" in b for k, b in bodies(s3, bucket).items() if "solo" not in k),
        timeout=60,
    )
