"""`dynadag rollback`: an old version becomes current again, recorded in the registry."""

from __future__ import annotations

import hashlib

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import CliStack, make_stack
from tests.rowkit import job, task

pytestmark = pytest.mark.moto
runner = CliRunner()


def _rows(sql: str) -> dict:
    return {
        "mwaa_task": [task("1", task_params={"conn_id": "redshift_default", "sql": sql})],
        "mwaa_job": [job("1", "1", name="load")],
    }


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(_rows("SELECT 1;"))
    stack.apply(_rows("SELECT 2;"))
    return stack


def test_rollback_makes_the_previous_version_current_as_a_new_version(stack: CliStack) -> None:
    first, second = (v["VersionId"] for v in stack.versions("job-load")[::-1])

    result = runner.invoke(app, ["rollback", "job-load"])

    assert result.exit_code == 0, result.output
    assert "version #1" in result.stdout and "as version #3" in result.stdout
    assert "next change to this DAG's rows recompiles it" in result.stderr
    versions = stack.versions("job-load")
    assert [v["VersionId"] for v in versions[1:]] == [second, first]
    assert "SELECT 1;" in stack.body("job-load")
    record = stack.registry.get_dag("job-load")
    assert record is not None
    assert record.outcome == "rolled-back"
    assert record.rolled_back_from == first
    assert record.version_id == versions[0]["VersionId"]
    assert record.sha256 == hashlib.sha256(stack.body("job-load").encode()).hexdigest()


def test_the_next_row_change_recompiles_over_a_rollback(stack: CliStack) -> None:
    runner.invoke(app, ["rollback", "job-load"])

    report = stack.apply(_rows("SELECT 3;"))

    assert report.written == ["job-load"]
    assert "SELECT 3;" in stack.body("job-load")
    assert stack.registry.get_dag("job-load").outcome == "written"  # type: ignore[union-attr]


def test_rollback_to_a_named_version(stack: CliStack) -> None:
    stack.apply(_rows("SELECT 3;"))

    result = runner.invoke(app, ["rollback", "job-load", "--to", "2"])

    assert result.exit_code == 0, result.output
    assert "SELECT 2;" in stack.body("job-load")
    assert len(stack.versions("job-load")) == 4


def test_rollback_restores_a_deleted_dag_past_its_delete_marker(stack: CliStack) -> None:
    stack.apply({**_rows("SELECT 2;"), "mwaa_job": []})

    result = runner.invoke(app, ["rollback", "job-load"])

    assert result.exit_code == 0, result.output
    assert "SELECT 2;" in stack.body("job-load")
    latest = stack.versions("job-load")[0]
    assert latest["IsLatest"] and "Size" in latest  # a file, not a delete marker
    assert stack.registry.get_dag("job-load").outcome == "rolled-back"  # type: ignore[union-attr]


def test_rollback_to_the_current_version_changes_nothing(stack: CliStack) -> None:
    result = runner.invoke(app, ["rollback", "job-load", "--to", "2"])

    assert result.exit_code == 1
    assert "version #2 of DAG 'job-load' is already current" in result.stderr
    assert len(stack.versions("job-load")) == 2


def test_rollback_to_an_unknown_version_is_one_clear_error(stack: CliStack) -> None:
    result = runner.invoke(app, ["rollback", "job-load", "--to", "9"])

    assert result.exit_code == 1
    assert "version '9' of DAG 'job-load' does not exist" in result.stderr
    assert len(stack.versions("job-load")) == 2


def test_rollback_of_a_dag_with_a_single_version_is_refused(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(_rows("SELECT 1;"))

    result = runner.invoke(app, ["rollback", "job-load"])

    assert result.exit_code == 1
    assert "only one version: nothing to roll back to" in result.stderr
