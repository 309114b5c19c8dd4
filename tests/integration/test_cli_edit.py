"""`dynadag edit`: one row in $EDITOR (a script here), checked with the live tables on save."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import CliStack, make_stack
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto
runner = CliRunner()
_EDITOR = """
import json, pathlib, sys
state = pathlib.Path(sys.argv[1])
rounds = json.loads(state.read_text())
path = pathlib.Path(sys.argv[2])
text = path.read_text()
pathlib.Path(str(state) + ".seen").open("a").write(text + "\\n=====\\n")
for old, new in rounds.pop(0):
    assert old in text, (old, text)
    text = text.replace(old, new)
path.write_text(text)
state.write_text(json.dumps(rounds))
"""


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    stack = make_stack(moto_endpoint, monkeypatch)
    sql = json.dumps({"conn_id": "redshift_default", "sql": "SELECT 1;\nSELECT 11;"})
    stack.apply(
        {
            "mwaa_task": [task("1", task_params=sql), task("2")],
            "mwaa_job": [job("1", "1", name="load")],
            "mwaa_scheduler": [scheduler("1", "1", name="daily")],
        }
    )
    return stack


def _editor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *rounds: list[tuple[str, str]]
) -> Path:
    """Point EDITOR at a script making `rounds` of text replacements, one round per call."""
    script = tmp_path / "editor.py"
    script.write_text(_EDITOR)
    state = tmp_path / "rounds.json"
    state.write_text(json.dumps([list(r) for r in rounds]))
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script} {state}")
    return state


def _item(stack: CliStack, table: str, **key: str) -> dict:
    return stack.dynamodb.get_item(
        TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
    )["Item"]


def test_a_valid_edit_is_written_keeping_json_text_attributes_as_text(
    stack: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _editor(tmp_path, monkeypatch, [("SELECT 11;", "SELECT 42;")])

    result = runner.invoke(app, ["edit", "mwaa_task", "1", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert "wrote mwaa_task[task_id='1']" in result.stdout
    assert "DAGs that change: job-load" in result.stdout
    seen = Path(f"{state}.seen").read_text()
    assert '"task_params": {' in seen and '"sql": "SELECT 1;\\nSELECT 11;"' in seen
    stored = _item(stack, "mwaa_task", task_id="1")["task_params"]
    assert json.loads(stored["S"]) == {
        "conn_id": "redshift_default",
        "sql": "SELECT 1;\nSELECT 42;",
    }


def test_an_edit_is_checked_with_the_rows_in_the_tables(
    stack: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # task 2 exists only in the table, not in the edited file
    _editor(tmp_path, monkeypatch, [('"task_list": "1"', '"task_list": "1,2"')])

    result = runner.invoke(app, ["edit", "job", "etl", "1", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert _item(stack, "mwaa_job", job_type="etl", job_id="1")["task_list"] == {"S": "1,2"}
    assert "DAGs that change: job-load" in result.stdout


def test_an_invalid_edit_is_not_written_and_its_problems_are_shown(
    stack: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _editor(tmp_path, monkeypatch, [('"task_list": "1"', '"task_list": "1,99"')])
    before = _item(stack, "mwaa_job", job_type="etl", job_id="1")

    result = runner.invoke(app, ["edit", "job", "etl", "1", "--format", "json"], input="n\n")

    assert result.exit_code == 1
    assert "mwaa_job[job_type='etl', job_id='1']: task_list" in result.stderr
    assert "'99'" in result.stderr
    assert "2 problem(s); edit again?" in result.stderr  # the job and its scheduler
    assert "nothing written; your edit is kept in" in result.stderr
    assert _item(stack, "mwaa_job", job_type="etl", job_id="1") == before


def test_problems_can_be_fixed_by_editing_again(
    stack: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _editor(
        tmp_path,
        monkeypatch,
        [('"task_type": "SQL"', '"task_type": "SQLL"')],
        [('"task_type": "SQLL"', '"task_type": "REDSHIFT-SQL"')],
    )

    result = runner.invoke(app, ["edit", "task", "2", "--format", "json"], input="y\n")

    assert result.exit_code == 0, result.output
    assert "'SQLL' is not a known task type" in result.stderr
    assert _item(stack, "mwaa_task", task_id="2")["task_type"] == {"S": "REDSHIFT-SQL"}


def test_force_writes_an_invalid_edit(
    stack: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _editor(tmp_path, monkeypatch, [('"task_type": "SQL"', '"task_type": "SQLL"')])

    result = runner.invoke(app, ["edit", "task", "2", "--format", "json", "--force"])

    assert result.exit_code == 0, result.output
    assert "despite its problems (--force)" in result.stdout
    assert _item(stack, "mwaa_task", task_id="2")["task_type"] == {"S": "SQLL"}


def test_a_changed_key_is_refused(
    stack: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _editor(tmp_path, monkeypatch, [('"task_id": "2"', '"task_id": "3"')])

    result = runner.invoke(app, ["edit", "task", "2", "--format", "json"], input="n\n")

    assert result.exit_code == 1
    assert "the key changed (mwaa_task[task_id='2'] became mwaa_task[task_id='3'])" in (
        result.stderr
    )
    assert "Item" not in stack.dynamodb.get_item(TableName="mwaa_task", Key={"task_id": {"S": "3"}})


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["edit", "task", "77"], 1, "no row mwaa_task[task_id='77']"),
        (["edit", "job", "1"], 2, "give 2 value(s), got 1"),
        (["edit", "mwaa_dag", "1"], 2, "unknown table 'mwaa_dag'"),
    ],
)
def test_bad_arguments_are_one_clear_error(
    stack: CliStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    message: str,
) -> None:
    _editor(tmp_path, monkeypatch)

    result = runner.invoke(app, args)

    assert result.exit_code == code
    assert message in result.stderr


def test_the_default_yaml_edit_is_read_back_and_written(
    stack: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the row opens as YAML, its SQL a block scalar; the edit is read back as YAML
    state = _editor(tmp_path, monkeypatch, [("SELECT 11;", "SELECT 42;")])

    result = runner.invoke(app, ["edit", "task", "1"])

    assert result.exit_code == 0, result.output
    seen = Path(f"{state}.seen").read_text()
    assert "sql: |" in seen
    stored = _item(stack, "mwaa_task", task_id="1")["task_params"]
    assert json.loads(stored["S"])["sql"] == "SELECT 1;\nSELECT 42;"
