"""`dynadag local` without the `local` extra: one error naming what to install, no traceback."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app

runner = CliRunner()


@pytest.mark.parametrize("module", ["yaml", "moto", "samtranslator"])
def test_a_missing_local_extra_module_is_one_error_with_the_install_command(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import module` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, module, None)

    result = runner.invoke(app, ["local", "--port", "0"])

    assert result.exit_code == 1
    error, hint = result.stderr.splitlines()
    assert error == f"error: dynadag local needs the 'local' extra; missing module(s): {module}"
    assert hint.startswith('hint: pip install "dynadag[local]"')
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
