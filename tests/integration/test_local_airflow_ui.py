"""`dynadag local --airflow` as a user drives it: save rows with boto3, see the DAG in the
Airflow UI (headless Chromium), run it, and see `dynadag runs` report the run.

Skipped only where no Chromium binary exists (`make browser` installs it).
Set DYNADAG_UPDATE_SCREENSHOT=1 to refresh docs/local-airflow-ui.png from this run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from lambda_compiler.local.airflow import free_port
from lambda_compiler.local.process import DYNADAG, LocalProcess
from lambda_compiler.rows_file import put_rows, read_rows_file
from lambda_compiler.snapshot import TableNames
from tests.conftest import REPO_ROOT
from tests.integration import browser
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.moto,
    pytest.mark.airflow,
    pytest.mark.skipif(
        browser.chromium() is None, reason="no Chromium binary: `make browser` installs it"
    ),
]

DAG = "job-sqlite_orders"
ROWS = REPO_ROOT / "examples" / "sqlite_demo.json"
SCREENSHOT = REPO_ROOT / "docs" / "local-airflow-ui.png"
STARTUP_TIMEOUT = 300  # the stack, `airflow db migrate`, four components healthy
APPEAR_WITHIN = 30  # seconds from the save to the DAG in Airflow: "within seconds"
UI_LINE = re.compile(r"airflow UI\s+(http://127\.0\.0\.1:\d+) \(no login")


def api(url: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    """Airflow's REST API; no token needed locally (everyone is admin)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


def processes_in(folder: Path) -> list[str]:
    """Command lines of the live processes whose working directory is `folder`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cwd").resolve() == folder.resolve():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # gone, or not ours to read
            continue
    return [cmd for cmd in found if cmd.strip()]


def test_a_saved_row_is_a_dag_in_the_airflow_ui_that_runs_and_reports(tmp_path: Path) -> None:
    workdir = tmp_path / ".dynadag"
    started = time.monotonic()
    local = LocalProcess(
        workdir,
        options=("--airflow", "--airflow-port", str(free_port())),
        timeout=STARTUP_TIMEOUT,
    )
    try:
        ui = UI_LINE.search(local.wait_for_line(UI_LINE.pattern))[1]  # type: ignore[index]
        startup = time.monotonic() - started

        # Save the rows with boto3, as any AWS tool would.
        saved = time.monotonic()
        put_rows(local.client("dynamodb"), read_rows_file(ROWS), TableNames())
        wait_until(
            f"{DAG} in Airflow",
            lambda: DAG in {d["dag_id"] for d in api(f"{ui}/api/v2/dags")["dags"]},
            APPEAR_WITHIN,
        )
        appeared = time.monotonic() - saved

        # The UI (a React app) shows it: the DAG list, rendered by a real browser.
        dom = browser.dump_dom(f"{ui}/dags", tmp_path / "chromium")
        (tmp_path / "dags.html").write_text(dom, encoding="utf-8")
        assert re.search(rf">\s*{re.escape(DAG)}\s*<", dom), f"{DAG} not in the page; see dags.html"

        # Run it (the UI's trigger button calls this endpoint) and wait for the result.
        run = api(
            f"{ui}/api/v2/dags/{DAG}/dagRuns",
            "POST",
            {"logical_date": "2024-01-01T00:00:00Z", "conf": {}},
        )
        run_id = run["dag_run_id"]
        state = wait_until(
            f"run {run_id} to finish",
            lambda: (
                (s := api(f"{ui}/api/v2/dags/{DAG}/dagRuns/{run_id}")["state"])
                in ("success", "failed")
                and s
            ),
            120,
        )
        assert state == "success", f"run {run_id} ended {state}; logs in {workdir}/airflow/logs"

        # `dynadag runs` reads the run history the DAG's tasks wrote to the local stack.
        reported = subprocess.run(
            [DYNADAG, "runs", DAG, "--format", "json"],
            env={**os.environ, **local.env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert reported.returncode == 0, reported.stderr
        runs = {r["run_id"]: r for r in json.loads(reported.stdout)}
        assert runs[run_id]["state"] == "success"
        assert runs[run_id]["tasks"] == 3

        png = tmp_path / "local-airflow-ui.png"
        browser.screenshot(f"{ui}/dags/{DAG}", tmp_path / "chromium", png)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 20_000  # a rendered page, not a blank one
        if os.environ.get("DYNADAG_UPDATE_SCREENSHOT"):
            shutil.copyfile(png, SCREENSHOT)
    finally:
        stopping = time.monotonic()
        code = local.stop(signal.SIGINT, timeout=60)
        stop = time.monotonic() - stopping
    local.mark()  # the lines printed while stopping
    print(f"startup {startup:.1f} s, row to DAG {appeared:.1f} s, stop {stop:.1f} s")
    assert code == 0, "\n".join(local.seen)
    assert local.seen[-1] == "stopped"
    assert processes_in(workdir) == [], "Airflow processes outlived `dynadag local`"
