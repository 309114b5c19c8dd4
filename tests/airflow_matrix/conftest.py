"""Generated DAGs on real Airflow releases, each in its own virtualenv, run in subprocesses.

`airflow_release` is parametrised over the releases ``DYNADAG_AIRFLOW_TARGETS`` selects
(see `releases.py`). A release's virtualenv is ``.venv-airflow/<version>/``, built by
``infra/airflow_venv.sh <version>`` (`make test` and `make test-airflow-matrix` build the
ones they run). Each test gets its own ``AIRFLOW_HOME`` with a copy of a metadata
database migrated once per release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambda_compiler.airflowignore import merge_airflowignore
from lambda_compiler.compiler import CompileResult, compile_dags
from lambda_compiler.config import CompilerConfig
from lambda_compiler.rebuild import AIRFLOWIGNORE, RUNTIME_FOLDER, default_runtime_dir
from lambda_compiler.rows_file import load_snapshot
from lambda_compiler.snapshot import snapshot_from_json
from lambda_compiler.targets import AirflowTarget, target_for
from tests.airflow.dagbag import write_dags
from tests.airflow_matrix.releases import VARIABLE, selected_releases
from tests.conftest import REPO_ROOT
from tests.runtime.conftest import aws_for_airflow, slack_stub  # noqa: F401  (fixtures)

VENVS = REPO_ROOT / ".venv-airflow"
PROBE = Path(__file__).with_name("dagbag_probe.py")
COMMAND_TIMEOUT = 300.0
# Variables of the test process that must not reach a target release's Python. Airflow
# variables do (connections and ``[dynadag]`` options the AWS fixtures set); those naming
# the test process's own home and database are replaced.
_NOT_INHERITED = ("DYNADAG_", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "airflow_release" in metafunc.fixturenames:
        try:
            releases = selected_releases(os.environ.get(VARIABLE))
        except ValueError as exc:
            raise pytest.UsageError(f"{VARIABLE}: {exc}") from None
        metafunc.parametrize("airflow_release", releases, scope="session")


@dataclass(frozen=True)
class Release:
    """One installed Airflow release and an empty, migrated metadata database for it."""

    version: str
    venv: Path
    metadata_db: Path

    @property
    def target(self) -> AirflowTarget:
        return target_for(self.version)

    @property
    def major(self) -> int:
        return self.target.major


@pytest.fixture(scope="session")
def release(airflow_release: str, tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The release's virtualenv, checked, and its metadata database after `airflow db migrate`."""
    venv = VENVS / airflow_release
    if not (venv / "bin" / "airflow").exists():
        pytest.fail(
            f"Airflow {airflow_release} is not installed in {venv}: run "
            f"`infra/airflow_venv.sh {airflow_release}` (`make test` and "
            "`make test-airflow-matrix` build the releases they run)"
        )
    home = tmp_path_factory.mktemp(f"airflow-{airflow_release}-template")
    template = TargetAirflow(Release(airflow_release, venv, home / "airflow.db"), home)
    template.airflow("db", "migrate")
    return template.release


@pytest.fixture
def target_airflow(release: Release, tmp_path: Path) -> TargetAirflow:
    """A fresh AIRFLOW_HOME for `release`: an empty dags folder and a migrated database."""
    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copyfile(release.metadata_db, home / "airflow.db")
    return TargetAirflow(release, home)


class TargetAirflowError(AssertionError):
    """An Airflow command of a target release failed; the message holds its output's tail."""


@dataclass
class TargetAirflow:
    """Airflow of one release, run as subprocesses with their own home and SQLite database.

    `env` holds extra variables (connections, ``[dynadag]`` options) for every command,
    `python_path` folders to import from besides the dags folder.
    """

    release: Release
    home: Path

    def __post_init__(self) -> None:
        self.dags = self.home / "dags"
        self.dags.mkdir(exist_ok=True)
        self.metadata_db = self.home / "airflow.db"
        self.log = self.home / "commands.log"
        self.env: dict[str, str] = {}
        self.python_path: list[Path] = []

    def environment(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        return {
            **base,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.metadata_db}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            # The dags folder is importable, as Airflow 3's DAG processor and task runner make
            # the bundle root; the 3.0 CLI (`dags test`, `tasks test`) does not do it itself.
            "PYTHONPATH": os.pathsep.join(str(path) for path in [self.dags, *self.python_path]),
            **self.env,
        }

    def python(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> None:
        """Run the release's Python; fails the test with the output's tail unless it exits 0."""
        self._run([str(self.release.venv / "bin" / "python"), *args], timeout)

    def airflow(self, *args: str, timeout: float = COMMAND_TIMEOUT, check: bool = True) -> int:
        """Run the release's `airflow` CLI; with `check`, fail the test unless it exits 0."""
        return self._run([str(self.release.venv / "bin" / "airflow"), *args], timeout, check)

    def start_airflow(self, *args: str) -> subprocess.Popen[bytes]:
        """Start an `airflow` command without waiting (its output goes to `log`)."""
        with self.log.open("ab") as out:
            return subprocess.Popen(
                [str(self.release.venv / "bin" / "airflow"), *args],
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,
            )

    def _run(self, command: list[str], timeout: float, check: bool = True) -> int:
        started = time.monotonic()
        with self.log.open("ab") as out:
            out.write(f"\n$ {' '.join(command)}\n".encode())
            out.flush()
            try:
                done = subprocess.run(
                    command,
                    env=self.environment(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.home,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                what = f"timed out after {timeout}s"
                raise TargetAirflowError(self._failure(command, what)) from None
            out.write(f"(exit {done.returncode} in {time.monotonic() - started:.1f} s)\n".encode())
        if check and done.returncode != 0:
            raise TargetAirflowError(self._failure(command, f"exit code {done.returncode}"))
        return done.returncode

    def _failure(self, command: list[str], what: str) -> str:
        tail = self.output()[-4000:]
        return f"Airflow {self.release.version}: {' '.join(command[1:])}: {what}\n{tail}"

    def output(self) -> str:
        """Everything the commands printed so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def deploy(self, result: CompileResult) -> None:
        """Lay `result` out as a deployment does: DAG files on top, the runtime beside them."""
        write_dags(result, self.dags)
        runtime = self.dags / RUNTIME_FOLDER
        runtime.mkdir(exist_ok=True)
        for path in sorted(default_runtime_dir().glob("*.py")):
            shutil.copyfile(path, runtime / path.name)
        (self.dags / AIRFLOWIGNORE).write_bytes(merge_airflowignore(b""))

    def load_dags(self) -> dict[str, Any]:
        """What the release's DagBag makes of the dags folder (see `dagbag_probe.py`)."""
        out = self.home / "dagbag.json"
        self.python(str(PROBE), str(self.dags), str(out))
        return json.loads(out.read_text(encoding="utf-8"))

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """The metadata database's runs of `dag_id`: run id, logical date (text), state."""
        date_column = "execution_date" if self.release.major == 2 else "logical_date"
        with contextlib.closing(sqlite3.connect(self.metadata_db)) as db:
            rows = db.execute(
                f"SELECT run_id, {date_column}, state FROM dag_run WHERE dag_id = ? ORDER BY id",
                (dag_id,),
            ).fetchall()
        return [{"run_id": r[0], "logical_date": r[1], "state": r[2]} for r in rows]


def compile_for(
    release: Release, rows: Path | dict[str, Any], config: CompilerConfig | None = None
) -> CompileResult:
    """Compile a rows file (or rows given as a dict) for `release`'s target."""
    config = dataclasses.replace(config or CompilerConfig(), airflow=release.target)
    snapshot = load_snapshot(rows) if isinstance(rows, Path) else snapshot_from_json(rows)
    return compile_dags(snapshot, config=config)


@pytest.fixture
def running(target_airflow: TargetAirflow) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts with `start_airflow`; any still running at the end are killed."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
