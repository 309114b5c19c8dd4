"""`make demo` itself, as a user runs it, within a time bound."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.moto, pytest.mark.airflow]
TIME_BOUND = 420  # seconds; the demo itself gives up after 300


def test_make_demo_shows_the_dag_appear_change_and_run(tmp_path: Path) -> None:
    workdir = tmp_path / ".dynadag"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["DYNADAG_DEMO_DIR"] = str(workdir)

    # STAMP= : use the installed .venv as it is (CI has just built it); never reinstall here.
    done = subprocess.run(
        ["make", "--no-print-directory", "demo", "STAMP="],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_BOUND,
        check=False,
    )

    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    # The README's first run: the clean seed, no rejected row anywhere
    assert "--seed examples/rows.json" in output
    assert "seeded 15 row(s) from" in output
    assert "rejected" not in output
    assert "INSERT mwaa_job[job_type='demo', job_id='201'] → wrote job-sqlite_orders" in output
    assert "MODIFY mwaa_task[task_id='202'] → wrote job-sqlite_orders" in output
    assert re.search(r"^\s+\+\s+sql=.*VALUES \('\{\{ ds \}\}', 42\);", output, re.MULTILINE)
    assert "run success: create_daily_orders success" in output
    assert "[('2024-01-01', 42)]" in output
    assert "local │ stopped" in output
    assert "Traceback" not in output
    assert (workdir / "dags" / "job-sqlite_orders.py").exists()
