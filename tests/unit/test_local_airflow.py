"""`dynadag local --airflow`'s port: a busy one is one clear error; the default moves aside."""

from __future__ import annotations

import contextlib
import socket

from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.cli.local import _airflow_port
from lambda_compiler.local.airflow import DEFAULT_PORT


def test_a_busy_airflow_port_is_one_clear_error_before_anything_starts() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = CliRunner().invoke(
            app, ["local", "--port", "0", "--airflow", "--airflow-port", str(port)]
        )

    assert result.exit_code == 1
    assert f"error: 127.0.0.1:{port} is already in use" in result.stderr
    assert "hint: choose --airflow-port" in result.stderr
    assert "endpoint" not in result.stdout  # failed before the stack started
    assert "Traceback" not in result.output


def test_without_a_port_the_ui_takes_8080_or_any_free_port() -> None:
    with socket.socket() as default:
        with contextlib.suppress(OSError):  # already taken by someone else: fine too
            default.bind(("127.0.0.1", DEFAULT_PORT))
            default.listen()

        port = _airflow_port(None)

        assert port != DEFAULT_PORT
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # free
