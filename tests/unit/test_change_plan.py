"""The pure planning of a rows change: overlay, affected DAGs, statuses, diffs and warnings."""

from __future__ import annotations

import difflib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lambda_compiler.change_plan import ChangePlan, compare, compile_change, overlay
from lambda_compiler.cli import app
from lambda_compiler.problems import ProblemCode
from lambda_compiler.rows import RowRef
from lambda_compiler.snapshot import snapshot_from_json
from tests.conftest import EXAMPLE_ROWS
from tests.rowkit import job, scheduler, task

runner = CliRunner()
Rows = dict[str, list[dict[str, Any]]]


def _live() -> Rows:
    return {
        "mwaa_task": [task("1"), task("2"), task("3")],
        "mwaa_job": [job("1", "1,2", name="daily"), job("2", "3", name="hourly")],
        "mwaa_scheduler": [scheduler("1", "1,2", name="morning")],
    }


def _plan(live: Rows, incoming: Rows, *, prune: bool = False) -> ChangePlan:
    """Plan `incoming` over `live`, the current files being `live`'s compile."""
    compiled = compile_change(snapshot_from_json(live), incoming, prune=prune)
    return compare(compiled, {d: r.source for d, r in compiled.old.dags.items()})


def _statuses(plan: ChangePlan) -> dict[str, str]:
    return {dag.dag_id: dag.status for dag in plan.dags}


def _ref(table: str, **key: str) -> RowRef:
    return RowRef(table, tuple(key.items()))


def test_a_new_job_over_existing_tasks_is_valid_in_context() -> None:
    plan = _plan(_live(), {"mwaa_job": [job("3", "1,3", name="extra")]})

    assert _statuses(plan) == {"job-extra": "new"}
    assert plan.problems == []
    assert plan.dags[0].diff.startswith("--- /dev/null\n+++ b/dags/job-extra.py\n")


def test_unchanged_rows_are_recognised_whatever_their_number_and_set_spelling() -> None:
    live = _live()
    live["mwaa_task"][0]["retries_hint"] = Decimal("2")
    live["mwaa_task"][0]["labels"] = ["a", "b"]
    same = dict(live["mwaa_task"][0], retries_hint=2, labels={"b", "a"})

    change = overlay(snapshot_from_json(live), {"mwaa_task": [same]}, prune=False)

    assert [(r.ref, r.status) for r in change.rows] == [
        (_ref("mwaa_task", task_id="1"), "unchanged")
    ]
    assert change.changed == frozenset()


def test_a_json_attribute_written_as_a_map_means_the_same_row() -> None:
    live = _live()
    live["mwaa_job"][0]["job_params"] = '{"retries": 2, "tags": ["a"]}'
    as_map = dict(live["mwaa_job"][0], job_params={"tags": ["a"], "retries": Decimal("2")})
    other = dict(live["mwaa_job"][0], job_params={"tags": ["a"], "retries": 3})

    change = overlay(snapshot_from_json(live), {"mwaa_job": [as_map]}, prune=False)
    changed = overlay(snapshot_from_json(live), {"mwaa_job": [other]}, prune=False)

    assert [r.status for r in change.rows] == ["unchanged"]
    assert change.snapshot.jobs[0]["job_params"] == '{"retries": 2, "tags": ["a"]}'  # kept
    assert [r.status for r in changed.rows] == ["changed"]
    assert [name for name, _, _ in changed.rows[0].differences()] == ["job_params"]


def test_prune_deletes_only_rows_of_the_tables_the_file_names() -> None:
    change = overlay(snapshot_from_json(_live()), {"mwaa_task": [task("1"), task("2")]}, prune=True)

    assert [(str(r.ref), r.status) for r in change.with_status("deleted")] == [
        ("mwaa_task[task_id='3']", "deleted")
    ]
    assert len(change.snapshot.tasks) == 2
    assert len(change.snapshot.jobs) == 2 and len(change.snapshot.schedulers) == 1


def test_without_prune_rows_the_file_lacks_stay() -> None:
    change = overlay(snapshot_from_json(_live()), {"mwaa_task": [task("1")]}, prune=False)

    assert change.with_status("deleted") == []
    assert len(change.snapshot.tasks) == 3


def test_a_task_change_changes_its_job_only_with_the_diff_of_the_files() -> None:
    live = _live()
    edited = task("1", task_params={"conn_id": "redshift_default", "sql": "SELECT 42;"})

    plan = _plan(live, {"mwaa_task": [edited]})

    assert _statuses(plan) == {"job-daily": "changed"}
    compiled = compile_change(snapshot_from_json(live), {"mwaa_task": [edited]})
    old, new = compiled.old.dags["job-daily"].source, compiled.new.dags["job-daily"].source
    assert plan.dags[0].diff == "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            "a/dags/job-daily.py",
            "b/dags/job-daily.py",
        )
    )
    assert '+        sql="SELECT 42;",' in plan.dags[0].diff
    (warning,) = plan.warnings
    assert warning.code == "overwrites-row"
    assert "mwaa_task[task_id='1']: overwrites a different row" in warning.message
    assert "'SELECT 42;'" in warning.message


def test_a_row_written_again_as_it_is_changes_nothing() -> None:
    plan = _plan(_live(), _live())

    assert plan.dags == ()
    assert plan.warnings == ()
    assert {r.status for r in plan.rows} == {"unchanged"}


def test_disabling_a_job_warns_that_its_scheduler_keeps_triggering_it() -> None:
    plan = _plan(_live(), {"mwaa_job": [job("2", "3", name="hourly", status=0)]})

    assert _statuses(plan) == {"job-hourly": "deleted", "schedule-morning": "invalid"}
    assert plan.dags[0].diff.endswith(
        "+++ /dev/null\n" + plan.dags[0].diff.split("+++ /dev/null\n")[1]
    )
    codes = [w.code for w in plan.warnings]
    assert "scheduler-triggers-gone-job" in codes
    (gone,) = [w for w in plan.warnings if w.code == "scheduler-triggers-gone-job"]
    assert gone.message.startswith(
        "schedule-morning keeps its current file, which triggers job-hourly; "
        "this change deletes job-hourly"
    )
    scheduler_change = plan.dags[1]
    assert [p.code for p in scheduler_change.introduced] == [ProblemCode.DISABLED_REFERENCE]


def test_a_rename_to_an_invalid_dag_id_warns_that_history_does_not_follow() -> None:
    plan = _plan(_live(), {"mwaa_job": [job("2", "3", name="hourly run!")]})

    assert _statuses(plan)["job-hourly"] == "deleted"
    assert _statuses(plan)["job-etl-2"] == "new"
    (rename,) = [w for w in plan.warnings if w.code == "dag-id-change"]
    assert rename.message == (
        "mwaa_job[job_type='etl', job_id='2']: its DAG id changes from job-hourly to job-etl-2 "
        "(the name 'hourly run!' is not a valid DAG id, so the id is made from the row's key); "
        "job-hourly's file is deleted and Airflow keeps its run history under job-hourly"
    )


def test_a_typo_in_a_new_unused_task_is_a_row_problem_and_a_warning() -> None:
    typo = task("9", task_params={"conn_id": "redshift_default", "sqll": "SELECT 1;"})

    plan = _plan(_live(), {"mwaa_task": [typo]})

    assert plan.dags == ()
    assert {p.field for p in plan.row_problems} == {"task_params.sql", "task_params.sqll"}
    assert plan.problems == sorted(plan.row_problems)
    assert [w.code for w in plan.warnings] == ["unused-task"]


def test_a_task_left_unused_by_the_change_is_warned_about() -> None:
    plan = _plan(_live(), {"mwaa_job": [job("2", "1", name="hourly")]})

    assert [w.message for w in plan.warnings if w.code == "unused-task"] == [
        "mwaa_task[task_id='3']: no enabled job lists this task; it is checked but builds nothing"
    ]


def test_fixing_a_broken_job_clears_its_problems() -> None:
    live = _live()
    live["mwaa_job"][1] = job("2", "3,404", name="hourly")

    plan = _plan(live, {"mwaa_job": [job("2", "3", name="hourly")]})

    hourly = next(d for d in plan.dags if d.dag_id == "job-hourly")
    assert hourly.status == "new"  # it had no file: it never built
    assert [p.code for p in hourly.cleared] == [ProblemCode.UNKNOWN_REFERENCE]
    assert plan.problems == []
    assert _statuses(plan)["schedule-morning"] == "new"


def test_a_new_job_claiming_an_existing_dag_id_affects_the_existing_job_and_its_scheduler() -> None:
    plan = _plan(_live(), {"mwaa_job": [job("7", "1", name="daily", job_type="other")]})

    assert _statuses(plan) == {"job-daily": "invalid", "schedule-morning": "invalid"}
    morning = next(d for d in plan.dags if d.dag_id == "schedule-morning")
    assert {p.code for p in morning.introduced} == {ProblemCode.INVALID_REFERENCE}
    daily = next(d for d in plan.dags if d.dag_id == "job-daily")
    assert {p.code for p in daily.introduced} == {ProblemCode.DUPLICATE_DAG_ID}
    assert {str(p.ref) for p in daily.introduced} == {
        "mwaa_job[job_type='etl', job_id='1']",
        "mwaa_job[job_type='other', job_id='7']",
    }


def test_a_current_file_equal_to_the_new_one_is_unchanged_and_has_no_diff() -> None:
    live = _live()
    compiled = compile_change(
        snapshot_from_json(live), {"mwaa_job": [job("1", "1,2", name="daily", job_params="{}")]}
    )
    files = {d: r.source for d, r in compiled.new.dags.items()}

    plan = compare(compiled, files)

    assert {d.status for d in plan.dags} == {"unchanged"}
    assert all(d.diff == "" for d in plan.dags)


def test_a_foreign_file_is_a_warning() -> None:
    compiled = compile_change(snapshot_from_json(_live()), {"mwaa_job": [job("3", "1", "x")]})

    plan = compare(compiled, {"job-x": "# hand-written\n"}, foreign={"job-x"})

    assert [w.code for w in plan.warnings] == ["foreign-file"]


# --- the command, offline (`--against`) ------------------------------------------------


def _write(path: Path, rows: Rows) -> Path:
    path.write_text(json.dumps(rows))
    return path


def test_plan_against_a_rows_file_prints_the_diff_and_exits_zero(tmp_path: Path) -> None:
    main = _write(tmp_path / "main.json", _live())
    branch = _live()
    branch["mwaa_task"][1] = task(
        "2", task_params={"conn_id": "redshift_default", "sql": "SELECT 7;"}
    )
    pr = _write(tmp_path / "pr.json", branch)

    result = runner.invoke(app, ["plan", str(pr), "--against", str(main)])

    assert result.exit_code == 0, result.output
    assert "rows: 0 new, 1 changed, 0 deleted, 5 unchanged" in result.stdout
    assert "job-daily (job): changed" in result.stdout
    assert '+        sql="SELECT 7;",' in result.stdout
    assert "plan: 0 new, 1 changed, 0 deleted, 0 invalid, 0 unchanged DAG(s); 0 problem(s)" in (
        result.stdout
    )


def test_plan_exits_one_on_problems_and_json_lists_them(tmp_path: Path) -> None:
    main = _write(tmp_path / "main.json", _live())
    pr = _write(tmp_path / "pr.json", {"mwaa_job": [job("1", "1,404", name="daily")]})

    result = runner.invoke(app, ["plan", str(pr), "--against", str(main), "--format", "json"])

    assert result.exit_code == 1
    data = json.loads(result.stdout)
    daily = next(d for d in data["dags"] if d["dag_id"] == "job-daily")
    assert daily["status"] == "invalid"
    assert daily["diff"] == ""
    assert daily["problems_introduced"] == [
        {
            "table": "mwaa_job",
            "key": "job_type='etl', job_id='1'",
            "field": "task_list",
            "code": "unknown-reference",
            "message": "task '404' does not exist in mwaa_task",
        }
    ]
    assert data["rows"] == [
        {
            "row": "mwaa_job[job_type='etl', job_id='1']",
            "status": "changed",
            "differences": [{"attribute": "task_list", "old": "'1,2'", "new": "'1,404'"}],
        }
    ]
    assert data["problems"] >= 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--against", "missing.json"], "missing.json: no such file or directory"),
        (["--prune", "--bogus"], "No such option"),
    ],
)
def test_plan_usage_errors_exit_two(tmp_path: Path, args: list[str], says: str) -> None:
    result = runner.invoke(app, ["plan", str(EXAMPLE_ROWS), *args])

    assert result.exit_code == 2
    assert says in result.output


def test_a_bad_rows_file_is_one_error_naming_it_and_exit_two(tmp_path: Path) -> None:
    bad = tmp_path / "rows.yaml"
    bad.write_text("mwaa_task:\n  - task_id: 1\n    task_id: 2\n")

    result = runner.invoke(app, ["plan", str(bad), "--against", str(EXAMPLE_ROWS)])

    assert result.exit_code == 2
    assert f"error: {bad}: key 'task_id' appears twice" in result.stderr
