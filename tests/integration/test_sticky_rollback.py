"""A rollback pins its DAG against the stream handler: row changes are compiled and
recorded, not published, until `dynadag rollback --release`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.handler import lambda_handler, sync_for
from tests.integration.aws_fixtures import Stack, deliver
from tests.rowkit import job, task

pytestmark = pytest.mark.moto
runner = CliRunner()


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def _put_sql(stack: Stack, sql: str) -> None:
    stack.put("task", task("1", task_params={"conn_id": "redshift_default", "sql": sql}))
    assert deliver(lambda_handler, stack.records()) == []


def test_a_row_change_to_a_pinned_dag_is_recorded_and_published_only_on_release(
    stack: Stack,
) -> None:
    # GIVEN a job DAG with two versions, rolled back to the first (pinned)
    stack.put("job", job("1", "1", name="load"))
    _put_sql(stack, "SELECT 1;")
    _put_sql(stack, "SELECT 2;")
    assert runner.invoke(app, ["rollback", "job-load"]).exit_code == 0
    pinned_file = stack.files()["job-load"]
    assert "SELECT 1;" in pinned_file

    # WHEN a row of the DAG changes
    _put_sql(stack, "SELECT 3;")

    # THEN the rollback stays, and the registry knows what the rows would publish
    assert stack.files()["job-load"] == pinned_file
    assert len(stack.versions("job-load")) == 3
    record = stack.registry.get_dag("job-load")
    assert record is not None and record.outcome == "pinned"
    assert record.pending_sha256 == stack.compile_tables().dags["job-load"].sha256

    # WHEN the pin is released
    result = runner.invoke(app, ["rollback", "--release", "job-load"])

    # THEN the latest rows' compile is published and later changes publish again
    assert result.exit_code == 0, result.output
    assert stack.files() == stack.expected_files()
    assert "SELECT 3;" in stack.files()["job-load"]
    _put_sql(stack, "SELECT 4;")
    assert "SELECT 4;" in stack.files()["job-load"]
    assert stack.registry.get_dag("job-load").outcome == "written"  # type: ignore[union-attr]
