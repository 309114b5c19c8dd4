"""`dynadag rollback`: an old version becomes current again, recorded in the registry."""

from __future__ import annotations

import hashlib

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.compiler import compile_dags
from lambda_compiler.snapshot import snapshot_from_json
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
    assert "pinned: row changes and rebuilds leave this file in place" in result.stderr
    versions = stack.versions("job-load")
    assert [v["VersionId"] for v in versions[1:]] == [second, first]
    assert "SELECT 1;" in stack.body("job-load")
    record = stack.registry.get_dag("job-load")
    assert record is not None
    assert record.outcome == "rolled-back"
    assert record.rolled_back_from == first
    assert record.version_id == versions[0]["VersionId"]
    assert record.sha256 == hashlib.sha256(stack.body("job-load").encode()).hexdigest()
    assert record.pinned_version == versions[0]["VersionId"]
    assert record.pinned_by and record.pinned_at


def test_until_next_change_lets_the_next_build_replace_the_rollback(stack: CliStack) -> None:
    result = runner.invoke(app, ["rollback", "job-load", "--until-next-change"])
    assert result.exit_code == 0, result.output
    assert "next change to this DAG's rows (or a rebuild) recompiles it" in result.stderr
    assert not stack.registry.get_dag("job-load").pinned  # type: ignore[union-attr]

    report = stack.apply(_rows("SELECT 3;"))

    assert report.written == ["job-load"]
    assert report.pinned == []
    assert "SELECT 3;" in stack.body("job-load")
    assert stack.registry.get_dag("job-load").outcome == "written"  # type: ignore[union-attr]


def test_a_pinned_rollback_survives_rebuilds_until_released(stack: CliStack) -> None:
    runner.invoke(app, ["rollback", "job-load"])

    report = stack.apply(_rows("SELECT 3;"))

    assert report.pinned == ["job-load"] and report.written == []
    assert "SELECT 1;" in stack.body("job-load")
    assert len(stack.versions("job-load")) == 3
    record = stack.registry.get_dag("job-load")
    assert record is not None and record.outcome == "pinned" and record.pinned
    assert record.pending_sha256 == _sha256_of_compile(stack, "SELECT 3;")
    status = runner.invoke(app, ["status"])
    assert "pinned by arn:aws:" in status.stdout

    released = runner.invoke(app, ["rollback", "--release", "job-load"])

    assert released.exit_code == 0, released.output
    assert "released job-load: published the compile of its current rows" in released.stdout
    assert "SELECT 3;" in stack.body("job-load")
    assert len(stack.versions("job-load")) == 4
    record = stack.registry.get_dag("job-load")
    assert record is not None and record.outcome == "written" and not record.pinned
    assert record.rolled_back_from is None and record.pending_sha256 is None
    assert stack.apply(_rows("SELECT 4;")).written == ["job-load"]


def test_a_pinned_dag_with_invalid_rows_records_them_and_release_keeps_the_file(
    stack: CliStack,
) -> None:
    runner.invoke(app, ["rollback", "job-load"])
    broken = _rows("SELECT 3;")
    broken["mwaa_task"][0]["task_type"] = "NO-SUCH-TYPE"

    assert stack.apply(broken).pinned == ["job-load"]
    record = stack.registry.get_dag("job-load")
    assert record is not None and record.pending_sha256 is None
    assert any("NO-SUCH-TYPE" in problem for problem in record.problems)

    released = runner.invoke(app, ["rollback", "--release", "job-load"])

    assert released.exit_code == 1
    assert "released job-load, but its rows are invalid: the rolled-back file stays" in (
        released.stderr
    )
    assert "SELECT 1;" in stack.body("job-load")
    record = stack.registry.get_dag("job-load")
    assert record is not None and record.outcome == "invalid" and not record.pinned


def test_release_of_a_dag_that_is_not_pinned_is_one_clear_error(stack: CliStack) -> None:
    result = runner.invoke(app, ["rollback", "--release", "job-load"])

    assert result.exit_code == 1
    assert "DAG 'job-load' is not pinned" in result.stderr


def test_release_with_a_version_is_a_usage_error(stack: CliStack) -> None:
    result = runner.invoke(app, ["rollback", "--release", "job-load", "--to", "1"])

    assert result.exit_code == 2
    assert "--release takes no --to" in result.stderr
    assert len(stack.versions("job-load")) == 2


def test_history_marks_the_rollback_copy_and_the_pin(stack: CliStack) -> None:
    runner.invoke(app, ["rollback", "job-load"])

    result = runner.invoke(app, ["history", "job-load"])

    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.splitlines()[1:]]
    assert [line[3].partition(" ")[2] for line in lines] == [
        "",
        "",
        "(rollback of #1, current, pinned)",
    ]
    assert lines[2][3].partition(" ")[0] == lines[0][3]


def _sha256_of_compile(stack: CliStack, sql: str) -> str:
    """The sha256 of the file the rows with `sql` compile to."""
    dag = compile_dags(snapshot_from_json(_rows(sql), stack.settings.tables)).dags["job-load"]
    assert dag.sha256 is not None
    return dag.sha256


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


def test_a_pinned_dag_whose_rows_are_removed_keeps_its_file_until_released(
    stack: CliStack,
) -> None:
    runner.invoke(app, ["rollback", "job-load"])

    report = stack.apply({**_rows("SELECT 2;"), "mwaa_job": []})

    assert report.pinned == ["job-load"] and report.deleted == []
    assert "SELECT 1;" in stack.body("job-load")
    released = runner.invoke(app, ["rollback", "--release", "job-load"])
    assert released.exit_code == 0, released.output
    assert "its rows no longer produce it; the file is deleted" in released.stdout
    assert stack.versions("job-load")[0].get("Size") is None
    assert stack.registry.get_dag("job-load").outcome == "deleted"  # type: ignore[union-attr]
