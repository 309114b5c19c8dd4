"""A second shell needs no exported variable: `dynadag local` records what it serves.

`dynadag local` runs as a subprocess (as a user starts it); the commands run in other
subprocesses with a clean environment: no `AWS_*`, no `DYNADAG_*`, an empty home.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_compiler.local.process import DYNADAG, LocalProcess
from tests.conftest import EXAMPLE_ROWS
from tests.integration.test_local_stack import STARTUP_TIMEOUT
from tests.waiting import wait_until

pytestmark = pytest.mark.moto


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, LocalProcess]]:
    """A project folder where `dynadag local` runs with its files in `.dynadag/`."""
    folder = tmp_path / "project"
    running = LocalProcess(folder / ".dynadag", seed=EXAMPLE_ROWS, timeout=STARTUP_TIMEOUT)
    try:
        yield folder, running
    finally:
        running.stop()


def shell(home: Path, **extra: str) -> dict[str, str]:
    """A fresh shell's environment: nothing about AWS or dynadag."""
    keep = {name: os.environ[name] for name in ("PATH", "PYTHONPATH") if name in os.environ}
    return {**keep, "HOME": str(home), "COLUMNS": "200", **extra}


def dynadag(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DYNADAG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_commands_in_the_project_folder_find_the_local_stack(
    project: tuple[Path, LocalProcess], tmp_path: Path
) -> None:
    folder, running = project
    env = shell(tmp_path)
    below = folder / "rows" / "drafts"
    below.mkdir(parents=True)

    def dag_ids() -> list[str]:
        result = dynadag("status", "--format", "json", cwd=below, env=env)
        assert result.returncode == 0, result.stderr
        return [record["dag_id"] for record in json.loads(result.stdout)]

    assert "job-daily_sales" in wait_until("the seeded DAGs in `dynadag status`", dag_ids)
    listing = dynadag("ls", cwd=folder, env=env)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[0].split("\t")[0] == "file"  # piped: a clean TSV
    assert any(line.startswith("job-daily_sales.py\t") for line in listing.stdout.splitlines())
    assert "Traceback" not in listing.stderr

    exports = dynadag("local", "env", cwd=folder, env=env)
    assert exports.returncode == 0, exports.stderr
    printed = next(line.strip() for line in running.seen if line.strip().startswith("export "))
    assert exports.stdout.strip() == printed
    assert f"AWS_ENDPOINT_URL={running.endpoint}" in printed
    assert f"DYNADAG_BUCKET={running.env['DYNADAG_BUCKET']}" in printed


def test_aws_endpoint_url_alone_finds_the_bucket_from_any_folder(
    project: tuple[Path, LocalProcess], tmp_path: Path
) -> None:
    _, running = project
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = dynadag(
        "ls",
        "--format",
        "json",
        cwd=elsewhere,
        env=shell(tmp_path, AWS_ENDPOINT_URL=running.endpoint),
    )

    assert result.returncode == 0, result.stderr
    assert ".airflowignore" in [entry["file"] for entry in json.loads(result.stdout)]


def test_after_stop_the_hint_says_how_to_start_it(
    project: tuple[Path, LocalProcess], tmp_path: Path
) -> None:
    folder, running = project
    running.stop()

    status = dynadag("status", cwd=folder, env=shell(tmp_path))
    exports = dynadag("local", "env", cwd=folder, env=shell(tmp_path))

    for result in (status, exports):
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert "`dynadag local`" in result.stderr.splitlines()[1]
    assert not (folder / ".dynadag" / "local.json").exists()
