"""No traceback, ever: bad invocations give one red `error:` line, exit 1 (2 for usage).

Each invocation runs `dynadag` in a subprocess, as a user would, against a moto
server holding a built deployment (or no server at all, for connection errors).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lambda_compiler.local.process import DYNADAG
from tests.cli_stack import BUCKET, make_stack
from tests.conftest import EXAMPLE_ROWS
from tests.rowkit import job, task

pytestmark = pytest.mark.moto


@dataclass(frozen=True)
class Case:
    """One bad invocation: its arguments, its extra environment and the exit code it must give."""

    args: tuple[str, ...]
    code: int
    env: dict[str, str | None] = field(default_factory=dict)  # None: unset the variable

    def __str__(self) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        return f"{env} dynadag {' '.join(self.args)}".strip()


@dataclass(frozen=True)
class World:
    """The files and endpoints the cases name."""

    tmp: Path
    endpoint: str
    closed: str


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def world(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", moto_server)
        for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
            patch.setenv(name, value)
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        make_stack(moto_server, patch).apply(
            {"mwaa_task": [task("1")], "mwaa_job": [job("1", "1", name="load")]}
        )
    tmp = tmp_path_factory.mktemp("bad")
    (tmp / "a-file").write_text("x")
    (tmp / "garbage.json").write_text("{not json")
    (tmp / "binary.json").write_bytes(b"\xff\xfe\x00\x81")
    (tmp / "unknown-table.json").write_text('{"mwaa_tasks": []}')
    (tmp / "invalid-rows.json").write_text(
        json.dumps({"mwaa_task": [task("1")], "mwaa_job": [job("1", "1,9")]})
    )
    (tmp / "a-folder").mkdir()
    yield World(tmp, moto_server, f"http://127.0.0.1:{_closed_port()}")


def cases(w: World) -> list[Case]:
    t = w.tmp
    rows = str(EXAMPLE_ROWS)
    no_credentials = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
    return [
        # files that cannot be written or read
        Case(("export", str(t / "no" / "such" / "folder" / "rows.json")), 1),
        Case(("export", str(t / "a-folder")), 1),
        Case(("compile", rows, "--out", str(t / "a-file")), 2),
        Case(("compile", rows, "--out", str(t / "a-file" / "dags")), 1),
        Case(("compile", rows, "--out", "/proc/dynadag/dags"), 1),
        Case(("validate", str(t / "missing.json")), 1),
        Case(("validate", str(t / "a-folder")), 1),
        Case(("validate", str(t / "garbage.json")), 1),
        Case(("validate", str(t / "binary.json")), 1),
        Case(("validate", str(t / "unknown-table.json")), 1),
        Case(("import", str(t / "invalid-rows.json")), 1),
        Case(("import", str(t / "missing.json")), 1),
        Case(("migrate-check", str(t / "garbage.json")), 1),
        Case(("migrate-check", str(t / "missing.json")), 1),
        Case(("migrate-check", str(t / "a-folder")), 1),
        # the local stack
        Case(("local", "--port", "99999"), 2),
        Case(("local", "--port", "0", "--seed", str(t / "garbage.json")), 1),
        Case(("local", "--port", "0", "--seed", str(t / "missing.json")), 1),
        Case(("local", "env"), 1),
        # where AWS is, and how to talk to it
        Case(("status",), 1, {"AWS_ENDPOINT_URL": "not-a-url"}),
        Case(("--endpoint-url", "http://127.0.0.1:99999", "ls"), 2),
        Case(("status",), 1, {"AWS_ENDPOINT_URL": w.closed}),
        Case(("ls",), 1, {"AWS_ENDPOINT_URL": None, **no_credentials}),
        Case(("--profile", "nope", "ls"), 1),
        Case(("status",), 1, {"DYNADAG_BUCKET": None, "AWS_ENDPOINT_URL": None}),
        Case(("--stack", "nope", "status"), 1),
        Case(("status",), 1, {"DYNADAG_BUCKET": "no-such-bucket"}),
        Case(("status",), 1, {"DYNADAG_AIRFLOW_VERSION": "1.0"}),
        Case(("rebuild",), 1, {"DYNADAG_TASK_TABLE": "no_such_table"}),
        # unknown DAGs and versions
        Case(("show", "job-nope"), 1),
        Case(("history", "job-nope"), 1),
        Case(("diff", "job-nope"), 1),
        Case(("rollback", "job-nope"), 1),
        Case(("runs", "job-nope"), 1),
        Case(("show", "job-load", "--s3-version", "999"), 1),
        Case(("rollback", "job-load", "--to", "zzzzzzzz"), 1),
        # usage
        Case(("frobnicate",), 2),
        Case(("status", "--nope"), 2),
        Case(("show",), 2),
        Case(("runs", "job-load", "-n", "0"), 2),
        Case(("rebuild", "--workers", "0"), 2),
        Case(("status", "--format", "yaml"), 2),
        Case(("validate", rows, "--airflow-version", "9.9"), 2),
    ]


def run(case: Case, w: World) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "DYNADAG_"))
    }
    empty = w.tmp / "aws-config"
    empty.write_text("")
    env.update(
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_MAX_ATTEMPTS="1",
        AWS_ENDPOINT_URL=w.endpoint,
        DYNADAG_BUCKET=BUCKET,
        COLUMNS="200",
    )
    for name, value in case.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [DYNADAG, *case.args],
        cwd=w.tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_bad_invocation_is_one_error_line_never_a_traceback(world: World) -> None:
    corpus = cases(world)
    assert len(corpus) >= 25
    wrong = []
    for case in corpus:
        result = run(case, world)
        output = result.stdout + result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        if "Traceback" in output or result.returncode != case.code or len(errors) != 1:
            wrong.append(f"{case}: exit {result.returncode} (want {case.code})\n{output}")
    assert not wrong, "\n\n".join(wrong)


def test_debug_shows_the_traceback(world: World) -> None:
    quiet = run(Case(("export", str(world.tmp / "a-folder")), 1), world)
    loud = run(Case(("--debug", "export", str(world.tmp / "a-folder")), 1), world)

    assert quiet.stderr.splitlines()[0] == f"error: {world.tmp / 'a-folder'}: Is a directory"
    assert "Traceback" in loud.stderr and "IsADirectoryError" in loud.stderr
