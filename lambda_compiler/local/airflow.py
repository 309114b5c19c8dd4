"""Airflow on the mirrored dags folder, as `make demo` and `dynadag local --airflow` run it.

`airflow_environment` wires an Airflow to the local stack: SQLite metadata under
`home`, the mirrored dags folder, a SQLite file standing in for Redshift (connection
`redshift_default`), the stack's endpoint as `aws_default`, and the run-history table
`dags_runtime` writes to. `LocalAirflow` runs the UI on top of it: the api-server,
scheduler, dag-processor and triggerer as separate processes, each in its own process
group, so one stop ends them and every worker they started.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

AIRFLOW = str(Path(sys.executable).parent / "airflow")
COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
DEFAULT_PORT = 8080
# The dag-processor lists the folder every 2 s and re-parses a changed file after 2 s:
# a saved row is a DAG in the UI within seconds (Airflow's defaults: 300 s and 30 s).
FAST_PARSING = {
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
    "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "0",
}


class AirflowError(RuntimeError):
    """Airflow did not start; the message names the component and its log."""


def airflow_environment(
    home: Path,
    dags_folder: Path,
    aws: Mapping[str, str],
    *,
    warehouse: Path,
    run_history_table: str,
) -> dict[str, str]:
    """The variables an Airflow process needs to run the mirrored DAGs against the local stack.

    `aws` holds the stack's `AWS_ENDPOINT_URL`, `AWS_REGION` and credentials (what
    `dynadag local` prints for other shells); they also reach the environment as they are.
    """
    connection = {
        "conn_type": "aws",
        "login": aws["AWS_ACCESS_KEY_ID"],
        "password": aws["AWS_SECRET_ACCESS_KEY"],
        "extra": {"endpoint_url": aws["AWS_ENDPOINT_URL"], "region_name": aws["AWS_REGION"]},
    }
    return {
        **os.environ,
        **aws,
        "AIRFLOW_HOME": str(home.resolve()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder.resolve()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{(home / 'airflow.db').resolve()}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__DYNADAG__RUN_HISTORY_TABLE": run_history_table,
        "AIRFLOW_CONN_REDSHIFT_DEFAULT": json.dumps(
            {"conn_type": "sqlite", "host": str(warehouse.resolve())}
        ),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
    }


def server_environment(base: Mapping[str, str], url: str, port: int) -> dict[str, str]:
    """`base` plus what the UI's processes share: the address, one JWT secret, fast parsing.

    There is no login: the api-server listens on 127.0.0.1 only and everyone is admin.
    """
    return {
        **base,
        **FAST_PARSING,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API__WORKERS": "1",
        # 64 bytes or more, as Airflow recommends for its HS512 tokens
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(64),
    }


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalAirflow:
    """The Airflow UI on the mirrored dags folder: `start()`, then `stop()`.

    `on_error` hears about a component that exits while the others run (once each).
    """

    home: Path
    environment: Mapping[str, str]  # from `airflow_environment`
    port: int
    on_error: Callable[[str, BaseException], None] = lambda what, exc: None
    url: str = field(init=False)
    _processes: dict[str, subprocess.Popen[bytes]] = field(init=False, default_factory=dict)
    _logs: list[IO[bytes]] = field(init=False, default_factory=list)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = server_environment(self.environment, self.url, self.port)

    @property
    def log_folder(self) -> Path:
        """Where each component's output goes (`scheduler.log`, ...)."""
        return self.home / "logs"

    def start(self, timeout: float = 240.0) -> None:
        """Migrate the metadata database, start the components, wait until all are healthy."""
        if not Path(AIRFLOW).exists():
            raise AirflowError(
                f"Airflow is not installed beside this dynadag (no {AIRFLOW}); "
                "install dynadag's dev extra (make install) or apache-airflow into this environment"
            )
        self.log_folder.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        self._run("db-migrate", ["db", "migrate"], deadline)
        for name in COMPONENTS:
            self._processes[name] = self._spawn(name, [name])
        self._wait_healthy(deadline)
        threading.Thread(target=self._watch, name="dynadag-airflow-watch", daemon=True).start()

    def request_stop(self) -> None:
        """Make a pending `start()` give up (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every component's process group, then SIGKILL what is left; idempotent."""
        self._stop.set()
        for process in self._processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self._processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(deadline - time.monotonic(), 0.1))
            # the group too: workers the component started may outlive it
            _signal_group(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
        self._processes = {}
        for log in self._logs:
            log.close()
        self._logs = []

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.log_folder / f"{name}.log").open("ab")
        self._logs.append(log)
        return subprocess.Popen(
            [AIRFLOW, *args],
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; stop() ends the group
        )

    def _run(self, name: str, args: list[str], deadline: float) -> None:
        process = self._spawn(name, args)
        self._processes[name] = process
        while process.poll() is None:
            self._check(deadline, f"airflow {' '.join(args)}")
            time.sleep(0.2)
        del self._processes[name]
        if process.returncode != 0:
            raise AirflowError(
                f"airflow {' '.join(args)} failed (exit {process.returncode}); "
                f"see {self.log_folder / f'{name}.log'}"
            )

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            for name, process in self._processes.items():
                if process.poll() is not None:
                    raise AirflowError(
                        f"airflow {name} exited with code {process.returncode}; "
                        f"see {self.log_folder / f'{name}.log'}"
                    )
            if self.healthy():
                return
            self._check(deadline, "Airflow to report every component healthy")
            time.sleep(0.5)

    def healthy(self) -> bool:
        """Whether `/api/v2/monitor/health` reports every component healthy."""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as reply:
                health = json.load(reply)
        except (OSError, ValueError):
            return False
        return all(
            health.get(part, {}).get("status") == "healthy"
            for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
        )

    def _check(self, deadline: float, what: str) -> None:
        if self._stop.is_set():
            raise AirflowError("stopped while Airflow was starting")
        if time.monotonic() > deadline:
            raise AirflowError(f"timed out waiting for {what}; logs in {self.log_folder}")

    def _watch(self) -> None:
        reported: set[str] = set()
        while not self._stop.wait(1.0):
            for name, process in list(self._processes.items()):
                if name not in reported and process.poll() is not None:
                    reported.add(name)
                    self.on_error(
                        f"airflow {name}",
                        AirflowError(
                            f"exited with code {process.returncode}; "
                            f"see {self.log_folder / f'{name}.log'}"
                        ),
                    )


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
