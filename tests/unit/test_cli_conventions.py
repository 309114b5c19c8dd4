"""CLI conventions: version, completion, grouped help with examples and variables, light import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from lambda_compiler import __version__
from lambda_compiler.cli import COMMANDS, app
from lambda_compiler.cli.common import LOCAL_PANEL, OFFLINE_PANEL, OPERATE_PANEL
from lambda_compiler.local.process import DYNADAG

runner = CliRunner()
HEAVY = ("boto3", "botocore", "black", "jinja2", "moto", "yaml")


def test_importing_the_cli_loads_no_heavy_module() -> None:
    code = (
        "import sys, lambda_compiler.cli\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert result.stdout.strip() == ""


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"dynadag {__version__}"


def test_shell_completion_script() -> None:
    result = subprocess.run(
        [DYNADAG, "--show-completion", "bash"], capture_output=True, text=True, check=True
    )
    assert "_dynadag_completion" in result.stdout and "complete " in result.stdout


def test_help_groups_the_commands() -> None:
    text = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    panels = [text.index(p) for p in (OFFLINE_PANEL, OPERATE_PANEL, LOCAL_PANEL)]
    assert panels == sorted(panels)
    offline = text[panels[0] : panels[1]]
    operate = text[panels[1] : panels[2]]
    assert "compile" in offline and "validate" in offline and "status" not in offline
    for name in ("status", "ls", "show", "history", "diff", "rollback", "runs", "import"):
        assert f" {name} " in operate
    assert "--stack" in text and "--profile" in text and "--endpoint-url" in text


@pytest.mark.parametrize(
    "command", [[name] for name, *_ in COMMANDS] + [["local"], ["local", "env"]], ids=" ".join
)
def test_every_help_has_an_example_and_its_environment(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example: dynadag" in result.stdout or 'Example: eval "$(dynadag' in result.stdout
    assert "Environment: " in result.stdout


def test_show_s3_version_does_not_clash_with_version() -> None:
    show = typer.main.get_command(app).commands["show"]  # type: ignore[attr-defined]
    options = {o for p in show.params for o in p.opts}
    assert "--s3-version" in options and "--version" not in options


def test_a_missing_extra_is_named_with_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import lambda_compiler.local.stack as stack

    def start_without_moto(self: object) -> None:
        raise ModuleNotFoundError("No module named 'yaml'", name="yaml")

    monkeypatch.setattr(stack.LocalStack, "start", start_without_moto)
    result = runner.invoke(app, ["local", "--port", "0"])

    assert result.exit_code == 1
    error, hint = result.stderr.splitlines()[:2]
    assert error == "error: the Python package 'yaml' is not installed"
    assert 'pip install "dynadag[local]"' in hint
