"""`dynadag plan` and `dynadag import` against a moto stack whose DAGs the real handler builds.

The plan's diff is checked against what a real save then produces in S3, byte for byte;
`import` is checked for validation in context, prune, writing only rows that differ, and
`--wait` returning once the registry holds the compiler's outcome of every affected DAG.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.rows_file import put_rows
from tests.conftest import EXAMPLE_ROWS
from tests.integration.aws_fixtures import Stack, deliver
from tests.rowkit import job, task

pytestmark = pytest.mark.moto
runner = CliRunner()
Rows = dict[str, list[dict[str, Any]]]


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """The example rows, built by the real handler from their stream records."""
    sync_for.cache_clear()
    stack = Stack(moto_endpoint, monkeypatch)
    put_rows(stack.dynamodb, _examples(), stack.tables)
    assert deliver(lambda_handler, stack.records()) == []
    return stack


@pytest.fixture
def compiler(stack: Stack) -> Iterator[None]:
    """The stream's Lambda, running: new stream records are delivered as they come."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            records = stack.records()
            if records:
                deliver(lambda_handler, records)
            stop.wait(0.1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def _examples() -> Rows:
    return json.loads(EXAMPLE_ROWS.read_text())


def _write(path: Path, rows: Rows) -> Path:
    path.write_text(json.dumps(rows))
    return path


def _count(stack: Stack, table: str) -> int:
    return stack.dynamodb.scan(TableName=table, Select="COUNT")["Count"]


def _edited_examples() -> Rows:
    rows = _examples()
    params = json.loads(rows["mwaa_task"][0]["task_params"])
    params["sql"] = "INSERT INTO staging.orders SELECT * FROM raw.orders_v2;"
    rows["mwaa_task"][0]["task_params"] = json.dumps(params)
    return rows


def test_the_plans_diff_is_what_a_real_save_then_writes(stack: Stack, tmp_path: Path) -> None:
    # GIVEN a rows file changing one task's SQL
    rows = _write(tmp_path / "rows.json", _edited_examples())
    before = stack.files()
    # WHEN it is planned
    planned = runner.invoke(app, ["plan", str(rows), "--format", "json"])
    # THEN only the job using the task changes, with the diff of its current file
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert [(d["dag_id"], d["status"]) for d in plan["dags"]] == [("job-daily_sales", "changed")]
    assert plan["rows"][0]["row"] == "mwaa_task[task_id='1']"
    assert plan["rows_unchanged"] == 14
    # WHEN the rows are saved and the stream records reach the handler
    imported = runner.invoke(app, ["import", str(rows)])
    assert imported.exit_code == 0, imported.output
    assert deliver(lambda_handler, stack.records()) == []
    # THEN S3 holds, byte for byte, the file the plan showed
    after = stack.files()
    (dag,) = plan["dags"]
    assert hashlib.sha256(after["job-daily_sales"].encode()).hexdigest() == dag["sha256"]
    key = f"{stack.settings.dags_prefix}job-daily_sales.py"
    assert dag["diff"] == "".join(
        difflib.unified_diff(
            before["job-daily_sales"].splitlines(keepends=True),
            after["job-daily_sales"].splitlines(keepends=True),
            f"a/{key}",
            f"b/{key}",
        )
    )
    assert {d: s for d, s in after.items() if d != "job-daily_sales"} == {
        d: s for d, s in before.items() if d != "job-daily_sales"
    }


def test_plan_of_a_disabled_job_warns_about_its_scheduler(stack: Stack, tmp_path: Path) -> None:
    rows = _examples()
    customer_sync = next(j for j in rows["mwaa_job"] if j["job_name"] == "customer_sync")
    rows = {"mwaa_job": [dict(customer_sync, status=0)]}

    result = runner.invoke(app, ["plan", str(_write(tmp_path / "r.json", rows))])

    assert result.exit_code == 1
    assert "job-customer_sync (job): deleted" in result.stdout
    assert "schedule-daily (scheduler): invalid" in result.stdout
    assert (
        "warning: schedule-daily keeps its current file, which triggers job-customer_sync"
        in result.stdout
    )
    assert "+++ /dev/null" in result.stdout
    assert _count(stack, "mwaa_job") == 4  # a plan writes nothing


def test_import_accepts_a_new_job_over_existing_tasks(stack: Stack, tmp_path: Path) -> None:
    rows = _write(tmp_path / "new-job.json", {"mwaa_job": [job("9", "1,2", name="reuse")]})

    result = runner.invoke(app, ["import", str(rows)])

    assert result.exit_code == 0, result.output
    assert "imported 1 row(s)" in result.stderr and "(1 new, 0 changed, 0 deleted)" in (
        result.stderr
    )
    assert _count(stack, "mwaa_job") == 5
    assert deliver(lambda_handler, stack.records()) == []
    assert "job-reuse" in stack.files()


def test_import_in_context_still_refuses_a_job_over_missing_tasks(
    stack: Stack, tmp_path: Path
) -> None:
    rows = _write(tmp_path / "bad.json", {"mwaa_job": [job("9", "1,404", name="reuse")]})

    result = runner.invoke(app, ["import", str(rows)])

    assert result.exit_code == 1
    assert "task '404' does not exist in mwaa_task" in result.stderr
    assert _count(stack, "mwaa_job") == 4


def test_import_writes_only_the_rows_that_differ(stack: Stack, tmp_path: Path) -> None:
    rows = _write(tmp_path / "rows.json", _edited_examples())

    result = runner.invoke(app, ["import", str(rows)])

    assert result.exit_code == 0, result.output
    assert "imported 1 row(s)" in result.stderr
    assert "14 unchanged row(s) not written" in result.stderr
    records = stack.records()
    assert [r["dynamodb"]["Keys"] for r in records] == [{"task_id": {"S": "1"}}]


def test_prune_deletes_exactly_the_rows_the_file_lacks(stack: Stack, tmp_path: Path) -> None:
    rows = _examples()
    rows["mwaa_task"] = [t for t in rows["mwaa_task"] if t["task_id"] not in ("6", "7")]
    rows["mwaa_job"] = [j for j in rows["mwaa_job"] if j["job_name"] != "customer_sync"]
    rows["mwaa_scheduler"] = [
        dict(s, job_list="1") if s["schedule_id"] == "1" else s for s in rows["mwaa_scheduler"]
    ]
    rows["mwaa_scheduler"][0]["schedule_job_dependencies"] = "[]"
    path = _write(tmp_path / "rows.json", rows)
    stack.records()

    refused = runner.invoke(app, ["import", str(path), "--prune"])

    assert refused.exit_code == 2
    assert "--prune deletes 3 row(s) the file lacks:" in refused.stderr
    assert "delete mwaa_task[task_id='6']" in refused.stderr
    assert "no terminal to confirm on" in refused.stderr
    assert stack.records() == []

    pruned = runner.invoke(app, ["import", str(path), "--prune", "--yes"])

    assert pruned.exit_code == 0, pruned.output
    deleted = sorted(
        json.dumps(r["dynamodb"]["Keys"], sort_keys=True)
        for r in stack.records()
        if r["eventName"] == "REMOVE"
    )
    assert deleted == sorted(
        json.dumps(k, sort_keys=True)
        for k in (
            {"task_id": {"S": "6"}},
            {"task_id": {"S": "7"}},
            {"job_type": {"S": "etl"}, "job_id": {"S": "2"}},
        )
    )
    assert (_count(stack, "mwaa_task"), _count(stack, "mwaa_job")) == (7, 3)
    assert _count(stack, "mwaa_scheduler") == 2


def test_prune_leaves_tables_the_file_does_not_name(stack: Stack, tmp_path: Path) -> None:
    rows = _write(tmp_path / "tasks.json", {"mwaa_task": _examples()["mwaa_task"]})

    result = runner.invoke(app, ["import", str(rows), "--prune", "--yes"])

    assert result.exit_code == 0, result.output
    assert "imported 0 row(s)" in result.stderr
    assert (_count(stack, "mwaa_job"), _count(stack, "mwaa_scheduler")) == (4, 2)


def test_dry_run_prints_the_plan_and_writes_nothing(stack: Stack, tmp_path: Path) -> None:
    rows = _write(tmp_path / "rows.json", _edited_examples())

    result = runner.invoke(app, ["import", str(rows), "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "job-daily_sales (job): changed" in result.stdout
    assert "raw.orders_v2" in result.stdout
    assert stack.records() == []


@pytest.mark.usefixtures("compiler")
def test_wait_returns_once_the_registry_holds_every_affected_outcome(
    stack: Stack, tmp_path: Path
) -> None:
    rows = _edited_examples()
    rows["mwaa_job"].append(job("9", "1,2", name="reuse"))
    path = _write(tmp_path / "rows.json", rows)

    result = runner.invoke(app, ["import", str(path), "--wait", "--timeout", "60"])

    assert result.exit_code == 0, result.output
    records = {r.dag_id: r for r in stack.registry.list_dags()}
    files = stack.files()
    for dag_id in ("job-daily_sales", "job-reuse"):
        # written by the first delivery; a duplicate stream record may settle it again as
        # unchanged: either way the registry names the file now in S3
        outcome = records[dag_id].outcome
        assert outcome in ("written", "unchanged")
        assert records[dag_id].sha256 == hashlib.sha256(files[dag_id].encode()).hexdigest()
        assert re.search(rf"^{dag_id}\t(written|unchanged)", result.stdout, re.MULTILINE)


@pytest.mark.usefixtures("compiler")
def test_wait_reports_an_invalid_dag_and_exits_one(stack: Stack, tmp_path: Path) -> None:
    rows = _write(tmp_path / "rows.json", {"mwaa_job": [job("9", "1,404", name="broken")]})

    result = runner.invoke(app, ["import", str(rows), "--force", "--wait", "--timeout", "60"])

    assert result.exit_code == 1
    assert "job-broken\tinvalid\t" in result.stdout
    assert "task '404' does not exist" in result.stdout
    assert stack.registry.get_dag("job-broken").outcome == "invalid"


def test_wait_without_a_compiler_times_out_with_a_clear_error(stack: Stack, tmp_path: Path) -> None:
    rows = _write(tmp_path / "rows.json", {"mwaa_job": [job("9", "1", name="lonely")]})

    result = runner.invoke(app, ["import", str(rows), "--wait", "--timeout", "1"])

    assert result.exit_code == 1
    assert (
        "error: timed out after 1s waiting for the compiler to settle 1 DAG(s): job-lonely"
        in result.stderr
    )
    assert _count(stack, "mwaa_job") == 5


def test_an_unused_task_with_a_typo_is_refused(stack: Stack, tmp_path: Path) -> None:
    typo = task("77", task_type="REDSHIF-SQL")
    rows = _write(tmp_path / "rows.yaml", {"mwaa_task": [typo]})

    result = runner.invoke(app, ["import", str(rows)])

    assert result.exit_code == 1
    assert "mwaa_task[task_id='77']: task_type: 'REDSHIF-SQL' is not a known task type" in (
        result.stderr
    )
    assert _count(stack, "mwaa_task") == 9
