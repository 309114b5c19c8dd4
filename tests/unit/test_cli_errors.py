"""Operator commands fail with one clear red line and exit 1, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.conftest import EXAMPLE_ROWS

runner = CliRunner()

COMMANDS = [
    ["status"],
    ["ls"],
    ["show", "job-daily_sales"],
    ["history", "job-daily_sales"],
    ["diff", "job-daily_sales"],
    ["rollback", "job-daily_sales"],
    ["export", "-"],
    ["import", str(EXAMPLE_ROWS)],
]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_an_unreachable_endpoint_is_named_with_a_hint(
    command: list[str], closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("DYNADAG_BUCKET", "dags")

    result = runner.invoke(app, command)

    assert result.exit_code == 1
    first, hint = result.stderr.splitlines()[:2]
    assert first.startswith(f"error: cannot reach {endpoint}")
    assert hint == "hint: is `dynadag local` running?"
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", COMMANDS[:6], ids=lambda c: c[0])
def test_a_missing_bucket_setting_is_named(command: list[str]) -> None:
    result = runner.invoke(app, command)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: DYNADAG_BUCKET is not set")
    assert "export DYNADAG_BUCKET=" in result.stderr


def test_an_unknown_profile_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nope")
    monkeypatch.setenv("DYNADAG_BUCKET", "dags")

    result = runner.invoke(app, ["ls"])

    assert result.exit_code == 1
    assert "The config profile (nope) could not be found" in result.stderr
    assert "hint: check --profile / AWS_PROFILE" in result.stderr
