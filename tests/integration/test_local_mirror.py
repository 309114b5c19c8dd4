"""The dags mirror: the local folder follows the bucket's dags prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from lambda_compiler.local.mirror import DagsMirror

pytestmark = pytest.mark.moto
BUCKET = "mirror-test"


@pytest.fixture
def s3(moto_endpoint: str) -> Any:
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


def _put(s3: Any, key: str, text: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=text.encode())


def test_new_changed_and_deleted_objects_reach_the_folder(s3: Any, tmp_path: Path) -> None:
    _put(s3, "dags/a.py", "a = 1\n")
    _put(s3, "dags/dags_runtime/callbacks.py", "x = 1\n")
    _put(s3, "other/b.py", "not mine\n")
    mirror = DagsMirror(s3, BUCKET, "dags/", tmp_path)

    assert mirror.sync() == ["a.py", "dags_runtime/callbacks.py"]
    assert (tmp_path / "a.py").read_text() == "a = 1\n"
    assert (tmp_path / "dags_runtime" / "callbacks.py").read_text() == "x = 1\n"
    assert not (tmp_path / "b.py").exists()
    assert mirror.sync() == []

    _put(s3, "dags/a.py", "a = 2\n")
    s3.delete_object(Bucket=BUCKET, Key="dags/dags_runtime/callbacks.py")
    assert mirror.sync() == ["a.py", "dags_runtime/callbacks.py"]
    assert (tmp_path / "a.py").read_text() == "a = 2\n"
    assert not (tmp_path / "dags_runtime" / "callbacks.py").exists()


def test_a_restart_removes_files_it_wrote_before_and_keeps_everything_else(
    s3: Any, tmp_path: Path
) -> None:
    _put(s3, "dags/gone.py", "old\n")
    DagsMirror(s3, BUCKET, "dags/", tmp_path).sync()
    (tmp_path / "hand_written.py").write_text("mine\n")
    s3.delete_object(Bucket=BUCKET, Key="dags/gone.py")

    DagsMirror(s3, BUCKET, "dags/", tmp_path).sync()

    assert not (tmp_path / "gone.py").exists()
    assert (tmp_path / "hand_written.py").read_text() == "mine\n"
