"""`dynadag status`: every DAG from the registry; non-zero exit when any is invalid."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import make_stack
from tests.rowkit import job, task

pytestmark = pytest.mark.moto
runner = CliRunner()

GOOD = {"mwaa_task": [task("1")], "mwaa_job": [job("1", "1", name="load")]}


def test_status_lists_outcome_version_and_last_change_and_exits_zero(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(GOOD)

    result = runner.invoke(app, ["status"])

    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()  # a clean TSV table; the summary on stderr
    summary = result.stderr.strip()
    assert header.split("\t") == ["DAG", "kind", "outcome", "S3 version", "last change (UTC)"]
    cells = row.split("\t")
    assert cells[:3] == ["job-load", "job", "written"]
    assert cells[3] == stack.versions("job-load")[0]["VersionId"][:12]
    assert cells[4][:2] == "20"
    assert summary == "1 DAG(s), 0 with problems"


def test_status_exits_one_and_names_the_problem_when_a_dag_is_invalid(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(GOOD)
    stack.apply({**GOOD, "mwaa_job": [*GOOD["mwaa_job"], job("2", "1,5", name="broken")]})

    result = runner.invoke(app, ["status"])

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1].split("\t")[:3] == ["job-broken", "job", "invalid"]
    # job-load's rows did not change: the rebuild wrote nothing, its last outcome stays
    assert lines[2].split("\t")[:3] == ["job-load", "job", "written"]
    assert len(lines) == 3  # header and two rows: problems go to stderr
    errors = result.stderr.splitlines()
    problem = next(line for line in errors if line.startswith("job-broken: "))
    assert "mwaa_job[job_type='etl', job_id='2']" in problem and "'5'" in problem
    assert errors[-1] == "2 DAG(s), 1 with problems"


def test_status_json_is_machine_readable(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(GOOD)

    result = runner.invoke(app, ["status", "--format", "json"])

    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    assert record["dag_id"] == "job-load"
    assert record["outcome"] == "written"
    assert record["problems"] == []


def test_status_of_an_empty_registry(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make_stack(moto_endpoint, monkeypatch)

    result = runner.invoke(app, ["status"])

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == "no DAGs in registry table dynadag_registry"


def test_aws_region_picks_the_region_the_commands_use(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_stack(moto_endpoint, monkeypatch).apply(GOOD)  # in us-east-1
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    elsewhere = runner.invoke(app, ["status"])
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    here = runner.invoke(app, ["status"])

    assert elsewhere.exit_code == 1
    assert "ResourceNotFoundException" in elsewhere.stderr
    assert here.exit_code == 0, here.output


def test_status_against_a_bucket_that_does_not_exist_is_one_error(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(GOOD)
    monkeypatch.setenv("DYNADAG_BUCKET", "no-such-dags-bucket")

    result = runner.invoke(app, ["status"])

    assert result.exit_code == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: bucket 'no-such-dags-bucket' does not exist"]


def test_status_json_ends_with_the_latest_fan_out_run_on_stderr(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_stack(moto_endpoint, monkeypatch).apply(GOOD)
    rebuilt = runner.invoke(app, ["rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output

    result = runner.invoke(app, ["status", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert [record["dag_id"] for record in json.loads(result.stdout)] == ["job-load"]
    run = json.loads(result.stderr)["latest_run"]
    assert (run["origin"], run["batches"], run["done"], run["failed"], run["pending"]) == (
        "rebuild",
        1,
        1,
        0,
        0,
    )
    text = runner.invoke(app, ["status"])
    assert f"rebuild run {run['run_id']}" in text.stderr.splitlines()[-1]
