"""`dynadag uses`, `explain`, `status --all` and `show` on a disabled DAG, on a moto stack."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import CliStack, make_stack
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto
runner = CliRunner()

ROWS = {
    "mwaa_task": [task("1"), task("2"), task("9")],
    "mwaa_job": [
        job("1", "1,2", name="load"),
        job("2", "2", name="not a valid id"),
        job("3", "1", name="old", status=0),
    ],
    "mwaa_scheduler": [scheduler("1", "1,2", name="daily"), scheduler("2", "1", name="hourly")],
}


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(ROWS)
    return stack


def test_uses_a_task_is_transitive_through_its_jobs_to_their_schedulers(stack: CliStack) -> None:
    result = runner.invoke(app, ["uses", "mwaa_task", "2", "--format", "json"])

    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["row"] == "mwaa_task[task_id='2']"
    assert [(d["dag_id"], d["via"]) for d in found["dags"]] == [
        ("job-load", "mwaa_task[task_id='2']"),
        ("job-etl-2", "mwaa_task[task_id='2']"),
        ("schedule-daily", "mwaa_job[job_type='etl', job_id='1']"),
        ("schedule-hourly", "mwaa_job[job_type='etl', job_id='1']"),
    ]


def test_uses_takes_a_printed_row_reference_and_a_job(stack: CliStack) -> None:
    result = runner.invoke(app, ["uses", "mwaa_job[job_type='etl', job_id='2']"])

    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert lines[0] == ["DAG", "kind", "row", "via"]
    assert [cells[0] for cells in lines[1:]] == ["job-etl-2", "schedule-daily"]


def test_uses_says_when_nothing_uses_a_task(stack: CliStack) -> None:
    result = runner.invoke(app, ["uses", "mwaa_task", "9"])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no DAG uses mwaa_task[task_id='9']"


def test_uses_an_unknown_row_is_one_error_line(stack: CliStack) -> None:
    result = runner.invoke(app, ["uses", "mwaa_task", "404"])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: mwaa_task[task_id='404'] does not exist in table mwaa_task"
    ]


def test_uses_a_malformed_reference_is_a_usage_error(stack: CliStack) -> None:
    result = runner.invoke(app, ["uses", "mwaa_job", "etl"])

    assert result.exit_code == 2
    assert "keyed by job_type, job_id: give 2 value(s), got 1" in result.stderr


def test_explain_an_enabled_dag(stack: CliStack) -> None:
    result = runner.invoke(app, ["explain", "job-load", "--format", "json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (row,) = report["rows"]
    assert row["row"] == "mwaa_job[job_type='etl', job_id='1']"
    assert row["enabled"] and row["problems"] == [] and not row["fallback_id"]
    assert row["dag_id_reason"] == "from job_name 'load'"
    assert [t["dag_id"] for t in row["triggered_by"]] == ["schedule-daily", "schedule-hourly"]
    assert report["missing"] is None
    assert report["registry"]["outcome"] == "written"
    assert report["registry"]["version_id"] == stack.versions("job-load")[0]["VersionId"]


def test_explain_says_which_row_disables_a_missing_dag(stack: CliStack) -> None:
    result = runner.invoke(app, ["explain", "job-old"])

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines() == [
        "job-old",
        "  not built    disabled by mwaa_job[job_type='etl', job_id='3'] status=0",
        "  row          mwaa_job[job_type='etl', job_id='3'] (job, disabled)",
        "  DAG id       job-old, from job_name 'old'",
        "  registry     never built",
    ]


def test_explain_a_fallback_id_by_row_reference(stack: CliStack) -> None:
    result = runner.invoke(app, ["explain", "mwaa_job", "etl", "2", "--format", "json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dag_id"] == "job-etl-2"
    (row,) = report["rows"]
    assert row["fallback_id"]
    assert row["dag_id_reason"] == (
        "fallback job-{job_type}-{job_id}: job_name 'not a valid id' does not make a valid "
        "DAG id (job-{job_name})"
    )


def test_explain_a_task_row_points_to_uses(stack: CliStack) -> None:
    result = runner.invoke(app, ["explain", "mwaa_task", "1"])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: mwaa_task[task_id='1'] is a task row: tasks have no DAG of their own",
        "hint: `dynadag uses mwaa_task 1` lists the DAGs that run it",
    ]


def test_explain_an_unknown_dag_fails_with_one_line(stack: CliStack) -> None:
    result = runner.invoke(app, ["explain", "job-nope"])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: unknown DAG 'job-nope': no row produces it and the registry never saw it"
    )


def test_status_all_lists_disabled_and_deleted_dags_with_their_reason(stack: CliStack) -> None:
    jobs = [job("1", "1,2", name="load"), job("2", "2", name="not a valid id", status=0)]
    schedulers = [scheduler("1", "1", name="daily"), scheduler("2", "1", name="hourly")]
    stack.apply(
        {
            "mwaa_task": ROWS["mwaa_task"],
            "mwaa_job": [*jobs, job("3", "1", name="old", status=0)],
            "mwaa_scheduler": schedulers,
        }
    )

    plain = runner.invoke(app, ["status"])
    everything = runner.invoke(app, ["status", "--all", "--format", "json"])

    assert plain.exit_code == 0, plain.output
    assert "job-etl-2" not in plain.stdout
    # the summary goes to stderr, so piped tables stay clean TSV
    assert plain.stderr.splitlines()[-1].endswith("(1 deleted not shown: `dynadag status --all`)")
    assert everything.exit_code == 0, everything.output
    entries = {e["dag_id"]: e for e in json.loads(everything.stdout)}
    assert entries["job-etl-2"]["outcome"] == "deleted"
    assert entries["job-etl-2"]["reason"] == (
        "disabled by mwaa_job[job_type='etl', job_id='2'] status=0"
    )
    assert entries["job-old"]["state"] == "disabled"
    assert entries["job-old"]["reason"] == (
        "disabled by mwaa_job[job_type='etl', job_id='3'] status=0"
    )
    assert "state" not in entries["job-load"]
    listed = runner.invoke(app, ["status", "--all"])
    assert "job-old\tjob\tdisabled\t\t" in listed.stdout.splitlines()
    reason = "job-old: disabled by mwaa_job[job_type='etl', job_id='3'] status=0"
    assert reason in listed.stderr.splitlines()
    assert listed.stderr.splitlines()[-1] == "3 DAG(s), 0 with problems, 2 disabled or deleted"
    shown = runner.invoke(app, ["show", "job-etl-2"])
    assert shown.exit_code == 1
    assert shown.stderr.splitlines() == [
        "error: DAG 'job-etl-2' is disabled: disabled by mwaa_job[job_type='etl', job_id='2'] "
        "status=0"
    ]


def test_show_a_disabled_dag_says_so(stack: CliStack) -> None:
    result = runner.invoke(app, ["show", "job-old"])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: DAG 'job-old' is disabled: disabled by mwaa_job[job_type='etl', job_id='3'] "
        "status=0"
    ]


def test_status_all_and_explain_say_a_deleted_dag_was_renamed(stack: CliStack) -> None:
    stack.apply({**ROWS, "mwaa_job": [job("1", "1,2", name="loader"), *ROWS["mwaa_job"][1:]]})

    everything = runner.invoke(app, ["status", "--all", "--format", "json"])
    explained = runner.invoke(app, ["explain", "job-load", "--format", "json"])

    entries = {e["dag_id"]: e for e in json.loads(everything.stdout)}
    renamed = (
        "renamed: mwaa_job[job_type='etl', job_id='1'] now produces job-loader "
        "(from job_name 'loader')"
    )
    assert entries["job-load"]["state"] == "deleted"
    assert entries["job-load"]["reason"] == renamed
    assert explained.exit_code == 0, explained.output
    report = json.loads(explained.stdout)
    assert report["rows"] == [] and report["missing"] == renamed
    assert report["registry"]["outcome"] == "deleted"
