"""`dynadag export` / `dynadag import`: the three tables to and from a rows file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.compiler import compile_dags
from lambda_compiler.rows_file import load_snapshot
from lambda_compiler.snapshot import snapshot_from_json
from tests.cli_stack import CliStack, make_stack
from tests.conftest import EXAMPLE_ROWS
from tests.rowkit import job, task

pytestmark = pytest.mark.moto
runner = CliRunner()


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    return make_stack(moto_endpoint, monkeypatch)


def _count(stack: CliStack, table: str) -> int:
    return stack.dynamodb.scan(TableName=table, Select="COUNT")["Count"]


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_import_then_export_round_trips_the_examples(stack: CliStack, tmp_path: Path) -> None:
    imported = runner.invoke(app, ["import", str(EXAMPLE_ROWS)])
    assert imported.exit_code == 0, imported.output
    assert "imported 15 row(s)" in imported.stderr
    assert _count(stack, "mwaa_task") == 9

    out = tmp_path / "exported.json"
    exported = runner.invoke(app, ["export", str(out)])

    assert exported.exit_code == 0, exported.output
    assert "exported 9 mwaa_task, 4 mwaa_job, 2 mwaa_scheduler" in exported.stderr
    original = json.loads(EXAMPLE_ROWS.read_text())
    data = json.loads(out.read_text())
    for table, rows in original.items():
        assert sorted(map(json.dumps, map(_sorted, data[table]))) == sorted(
            map(json.dumps, map(_sorted, rows))
        )
    again = compile_dags(load_snapshot(out))
    expected = compile_dags(load_snapshot(EXAMPLE_ROWS))
    assert {d: r.source for d, r in again.dags.items()} == {
        d: r.source for d, r in expected.dags.items()
    }


def _sorted(row: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(row.items()))


def test_yaml_export_reads_back_to_the_same_dag_files_as_the_json_export(
    stack: CliStack, tmp_path: Path
) -> None:
    # GIVEN the examples, plus rows holding native maps, numbers and multi-line text
    data = json.loads(EXAMPLE_ROWS.read_text())
    sql = "SELECT 1\nFROM t\nWHERE day = '{{ ds }}';"
    data["mwaa_task"].append(task("90", task_params={"conn_id": "crm_postgres", "sql": sql}))
    data["mwaa_task"].append(
        task("91", task_params=json.dumps({"sql": sql, "conn_id": "crm_postgres"}))
    )
    data["mwaa_job"].append(
        job("90", "90,91", name="yaml_job", job_params='{"retries": 2, "retry_delay": 1.5}')
    )
    assert runner.invoke(app, ["import", str(_write(tmp_path / "in.json", data))]).exit_code == 0

    # WHEN the tables are exported as JSON and as YAML
    as_json = runner.invoke(app, ["export", "-"])
    as_yaml = runner.invoke(app, ["export", "-", "--format", "yaml"])

    # THEN the YAML is readable: JSON text expanded, SQL as a literal block
    assert as_yaml.exit_code == 0, as_yaml.output
    assert "  task_params:\n    sql: |-\n      SELECT 1\n      FROM t\n" in as_yaml.stdout
    assert "  job_params:\n    retries: 2\n    retry_delay: 1.5\n" in as_yaml.stdout
    assert '\\"' not in as_yaml.stdout
    # AND, read back, it compiles to byte-identical DAG files
    from_json = compile_dags(snapshot_from_json(json.loads(as_json.stdout)))
    from_yaml = compile_dags(snapshot_from_json(yaml.safe_load(as_yaml.stdout)))
    assert from_json.problems == [] and len(from_json.dags) == 6
    assert {d: r.source for d, r in from_yaml.dags.items()} == {
        d: r.source for d, r in from_json.dags.items()
    }
    # AND the export is deterministic
    assert runner.invoke(app, ["export", "-", "--format", "yaml"]).stdout == as_yaml.stdout


def test_export_orders_rows_by_key_with_key_attributes_first(stack: CliStack) -> None:
    for task_id in ("10", "2", "1"):
        stack.dynamodb.put_item(
            TableName="mwaa_task",
            Item={"task_name": {"S": f"t{task_id}"}, "task_id": {"S": task_id}, "x": {"N": "1.5"}},
        )

    result = runner.invoke(app, ["export", "-"])

    assert result.exit_code == 0, result.output
    tasks = json.loads(result.stdout)["mwaa_task"]
    assert [t["task_id"] for t in tasks] == ["1", "2", "10"]
    assert list(tasks[0]) == ["task_id", "task_name", "x"]
    assert tasks[0]["x"] == 1.5


def test_import_accepts_dynamodb_typed_json(stack: CliStack, tmp_path: Path) -> None:
    typed = {
        "mwaa_task": {
            "Items": [
                {
                    "task_id": {"S": "1"},
                    "task_name": {"S": "load"},
                    "task_type": {"S": "SQL"},
                    "task_params": {
                        "M": {"conn_id": {"S": "redshift_default"}, "sql": {"S": "SELECT 1;"}}
                    },
                }
            ]
        }
    }

    result = runner.invoke(app, ["import", str(_write(tmp_path / "typed.json", typed))])

    assert result.exit_code == 0, result.output
    item = stack.dynamodb.get_item(TableName="mwaa_task", Key={"task_id": {"S": "1"}})["Item"]
    assert item["task_params"]["M"]["sql"] == {"S": "SELECT 1;"}


def test_a_key_of_the_wrong_type_is_one_clear_error(stack: CliStack, tmp_path: Path) -> None:
    rows = {"mwaa_task": [{**task("1"), "task_id": 1}]}

    result = runner.invoke(app, ["import", str(_write(tmp_path / "rows.json", rows))])

    assert result.exit_code == 1
    assert "Type mismatch for key task_id expected: S actual: N" in result.stderr
    assert "Traceback" not in result.output


def test_import_writes_nothing_when_any_row_is_invalid(stack: CliStack, tmp_path: Path) -> None:
    rows = {"mwaa_task": [task("1")], "mwaa_job": [job("1", "1"), job("2", "1,7", name="bad")]}

    result = runner.invoke(app, ["import", str(_write(tmp_path / "rows.json", rows))])

    assert result.exit_code == 1
    assert "mwaa_job[job_type='etl', job_id='2']: task_list: task '7'" in result.stderr
    assert "1 problem(s)" in result.stderr and "nothing written" in result.stderr
    assert _count(stack, "mwaa_task") == 0
    assert _count(stack, "mwaa_job") == 0


def test_import_force_writes_invalid_rows_too(stack: CliStack, tmp_path: Path) -> None:
    rows = {"mwaa_task": [task("1")], "mwaa_job": [job("1", "1"), job("2", "1,7", name="bad")]}

    result = runner.invoke(app, ["import", str(_write(tmp_path / "r.json", rows)), "--force"])

    assert result.exit_code == 0, result.output
    assert "task '7'" in result.stderr
    assert _count(stack, "mwaa_job") == 2


def test_import_of_a_malformed_file_names_the_file(stack: CliStack, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"mwaa_task": [')

    result = runner.invoke(app, ["import", str(path)])

    assert result.exit_code == 1
    assert f"{path}: not valid JSON" in result.stderr
    assert "Traceback" not in result.output


def test_export_and_import_need_no_bucket_setting(
    stack: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DYNADAG_BUCKET")

    result = runner.invoke(app, ["export", str(tmp_path / "rows.json")])

    assert result.exit_code == 0, result.output


def test_export_leaves_out_only_the_row_with_a_binary_attribute(
    stack: CliStack, tmp_path: Path
) -> None:
    stack.apply(json.loads(EXAMPLE_ROWS.read_text()))
    stack.dynamodb.put_item(
        TableName="mwaa_job",
        Item={"job_type": {"S": "etl"}, "job_id": {"S": "99"}, "blob": {"B": b"\x00"}},
    )
    out = tmp_path / "exported.json"

    result = runner.invoke(app, ["export", str(out)])

    assert result.exit_code == 1
    problem = (
        "mwaa_job[job_type='etl', job_id='99']: attribute 'blob': binary values have no "
        "plain-JSON form; rows never need them; row left out of the export"
    )
    assert problem in result.stderr
    assert "error: 1 row(s) could not be exported" in result.stderr
    assert "exported 9 mwaa_task, 4 mwaa_job, 2 mwaa_scheduler" in result.stderr
    data = json.loads(out.read_text())
    assert len(data["mwaa_job"]) == 4
    assert "99" not in {row["job_id"] for row in data["mwaa_job"]}
