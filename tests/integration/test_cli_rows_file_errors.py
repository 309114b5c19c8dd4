"""Nasty rows files (tests/unit/test_rows_file_corpus.py) through the CLI: every command
that reads one gives one `error:` line naming the file, exit 1 or 2, and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import make_stack
from tests.unit.test_rows_file_corpus import CORPUS, write_case

pytestmark = pytest.mark.moto
runner = CliRunner()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_command_gives_one_error_line_and_no_traceback(
    tmp_path: Path, name: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_stack(moto_endpoint, monkeypatch)
    content, says = CORPUS[name]
    path = write_case(tmp_path, name, content)
    for command in (
        ["validate", str(path)],
        ["compile", str(path), "--out", str(tmp_path / "out")],
        ["import", str(path)],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code in (1, 2), (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.stdout + result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, (command, result.stderr)
        assert errors[0].startswith(f"error: {path}: ") and says in errors[0], command
