"""`--format json`: every command that reports problems gives them in one shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import make_stack
from tests.rowkit import job, task

pytestmark = pytest.mark.moto

runner = CliRunner()
PROBLEM_KEYS = {"table", "key", "field", "code", "message"}
ROWS = {"mwaa_task": [task("1")], "mwaa_job": [job("1", "1", name="load"), job("2", "1,5")]}


def problems_of(command: str, data: Any) -> list[dict[str, Any]]:
    """The problem objects in a command's JSON output."""
    if command == "status":
        return [p for record in data for p in record["problems"]]
    if command == "rebuild":
        return [p for problems in data["invalid"].values() for p in problems]
    if command == "import":
        return data["problems"]
    if command == "migrate-check":
        return [p for dag in data["dags"] for p in dag["problems"]]
    return data  # validate, compile


def test_every_json_problem_has_the_same_keys(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stack = make_stack(moto_endpoint, monkeypatch)
    rows_file = tmp_path / "rows.json"
    rows_file.write_text(json.dumps(ROWS))
    stack.apply(ROWS)  # job 2 names a task that does not exist
    # import checks what a file changes: here job 2, still naming the missing task
    changed = {**ROWS, "mwaa_job": [job("1", "1", name="load"), job("2", "1,5", name="load2")]}
    import_file = tmp_path / "import.json"
    import_file.write_text(json.dumps(changed))
    invocations = {
        "rebuild": ["rebuild"],
        "status": ["status"],
        "validate": ["validate", str(rows_file)],
        "compile": ["compile", str(rows_file), "--out", str(tmp_path / "dags")],
        "import": ["import", str(import_file)],
        "migrate-check": ["migrate-check", str(rows_file)],
    }
    seen = {}
    for command, args in invocations.items():
        result = runner.invoke(app, [*args, "--format", "json"])
        assert result.exit_code == 1, (command, result.output)
        problems = problems_of(command, json.loads(result.stdout))
        assert problems, command
        for problem in problems:
            assert set(problem) == PROBLEM_KEYS, (command, problem)
        seen[command] = problems[0]
    # the same row, spelt the same way by every command
    assert {(p["table"], p["key"], p["code"]) for p in seen.values()} == {
        ("mwaa_job", "job_type='etl', job_id='2'", "unknown-reference")
    }
