"""`dynadag migrate-check` on the live tables, and `rebuild` meeting the original's DAG files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import CliStack, make_stack
from tests.unit.test_migration import ORIGINAL_ROWS

pytestmark = pytest.mark.moto
runner = CliRunner()


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(ORIGINAL_ROWS)
    return stack


def test_migrate_check_reads_the_live_tables_and_fails_on_a_broken_dag(stack: CliStack) -> None:
    result = runner.invoke(app, ["migrate-check", "--airflow-version", "2.11", "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["airflow"] == "2.11"
    by_id = {dag["dag_id"]: dag for dag in report["dags"]}
    assert by_id["job-daily_sales"]["compiles"] and by_id["job-daily_sales"]["dag_id_kept"]
    assert not by_id["schedule-broken"]["compiles"]
    assert by_id["schedule-broken"]["problems"][0]["table"] == "mwaa_scheduler"


def test_migrate_check_of_a_rows_file_needs_no_aws(tmp_path, monkeypatch) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(
        json.dumps({**ORIGINAL_ROWS, "mwaa_scheduler": ORIGINAL_ROWS["mwaa_scheduler"][:2]})
    )
    monkeypatch.delenv("DYNADAG_BUCKET", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    result = runner.invoke(app, ["migrate-check", str(rows)])
    assert result.exit_code == 0, result.output
    assert (
        "job-daily_sales (job, mwaa_job[job_type='etl', job_id='1']): compiles; DAG id kept"
        in result.stdout
    )
    assert "task id: load_orders.execute_redshift_job -> load_orders" in result.stdout
    assert "4 DAG(s) for Airflow 3.3: 4 compile, 0 with problems" in result.stderr


def test_rebuild_names_the_original_dag_files_and_how_to_remove_them(stack: CliStack) -> None:
    for name in ("job_dag.py", "schedule_dag.py", "mine.py"):
        stack.s3.put_object(Bucket=stack.settings.bucket, Key=f"dags/{name}", Body=b"# dag airflow")

    result = runner.invoke(app, ["rebuild"])

    out = result.stdout
    assert "job_dag.py: the original solution's DAG file" in out
    assert "same DAG ids as dynadag's job-* files" in out
    assert f"aws s3 rm s3://{stack.settings.bucket}/dags/job_dag.py" in out
    assert "schedule_dag.py: the original solution's DAG file" in out
    assert "mine: not written by dynadag; left in place" in out
    assert "job_dag: not written by dynadag" not in out
    assert stack.s3.get_object(Bucket=stack.settings.bucket, Key="dags/job_dag.py")  # left in place
    as_json = json.loads(runner.invoke(app, ["rebuild", "--format", "json"]).stdout)
    assert as_json["original_solution_files"] == ["job_dag.py", "schedule_dag.py"]
    assert as_json["foreign_files"] == ["mine"]
