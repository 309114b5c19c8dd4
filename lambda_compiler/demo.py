"""`make demo`: save a DynamoDB item and the Airflow DAG appears, on this machine.

1. starts `dynadag local --seed examples/` (DynamoDB, Streams and S3 on 127.0.0.1, the
   real Lambda handler, the dags mirror) and waits for the example DAGs;
2. lists them (`dynadag ls`) and shows one (`dynadag show`);
3. edits one row with boto3 and shows the new version arriving (`dynadag diff`);
4. runs that job DAG with `airflow dags test` against the mirrored dags folder, a
   SQLite database standing in for Redshift (connection `redshift_default`);
5. stops the local stack.

Everything lives under `.dynadag/` (or `$DYNADAG_DEMO_DIR`); the demo takes under a
minute and gives up after `TIME_LIMIT` seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console
from rich.text import Text

from lambda_compiler.compiler import compile_dags
from lambda_compiler.local.rows_file import rows_files
from lambda_compiler.snapshot import FILE_KEYS, snapshot_from_json

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
DEMO_DAG = "job-sqlite_orders"
DEMO_TASK = "202"
LOGICAL_DATE = "2024-01-01"
TIME_LIMIT = 300.0

console = Console(highlight=False, soft_wrap=True)


class DemoError(RuntimeError):
    """A step did not happen in time or failed; the message says which."""


class LocalProcess:
    """`dynadag local` as a child process, its lines echoed as they arrive."""

    def __init__(self, workdir: Path, deadline: float, *, echo: bool = True) -> None:
        self.deadline = deadline
        self.echo = echo
        workdir.mkdir(parents=True, exist_ok=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.process = subprocess.Popen(
            [
                *(str(BIN / "dynadag"), "local", "--port", "0", "--seed", str(EXAMPLES)),
                *("--dags-folder", str(workdir / "dags")),
            ],
            cwd=workdir,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._echo, daemon=True).start()
        ready = self.wait_for_line(r"dynadag local is ready: (\S+)")
        exports = next(line for line in self.seen if "export AWS_ENDPOINT_URL=" in line)
        self.env = dict(re.findall(r"(\w+)=(\S+)", exports))
        self.endpoint = re.search(r"ready: (\S+)", ready)[1]  # type: ignore[index]

    def _echo(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            if self.echo:
                console.print(f"  [dim]local │[/dim] {_escape(line)}")
            self.lines.put(line)

    def wait_for_line(self, pattern: str, after: int = 0) -> str:
        """The first line printed since line number `after` that matches `pattern`."""
        regex = re.compile(pattern)
        while True:
            for line in self.seen[after:]:
                if regex.search(line):
                    return line
            if self.process.poll() is not None:
                raise DemoError(f"dynadag local exited with code {self.process.returncode}")
            if time.monotonic() > self.deadline:
                raise DemoError(f"timed out waiting for a line matching {pattern!r}")
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=0.2))

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self) -> None:
        """Ctrl-C, as a user would; kill only if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def main() -> int:
    """Run the demo; exit code 0 when every step happened."""
    workdir = Path(os.environ.get("DYNADAG_DEMO_DIR") or ROOT / ".dynadag").resolve()
    started = time.monotonic()
    stack: LocalProcess | None = None
    try:
        _step("1. Start the local stack and load the example rows")
        stack = LocalProcess(workdir, started + TIME_LIMIT)
        expected = expected_dags()
        s3 = stack.client("s3")
        bucket, prefix = stack.env["DYNADAG_BUCKET"], "dags/"
        _wait(
            f"the {len(expected)} valid example DAGs in S3",
            lambda: expected <= dag_files(s3, bucket, prefix),
            stack.deadline,
        )
        _step("2. The DAG files in S3, and one of them as Airflow will parse it")
        _cli(stack, "ls")
        _cli(stack, "show", DEMO_DAG)

        _step(f"3. Change one row: task {DEMO_TASK} now loads 42 orders instead of 40")
        seconds = _edit_row(stack, bucket, prefix)
        stack.wait_for_line(rf"mwaa_task\[task_id='{DEMO_TASK}'\] → wrote {DEMO_DAG}")
        console.print(f"  PutItem → new S3 version of {DEMO_DAG}.py in {seconds:.2f} s")
        _cli(stack, "diff", DEMO_DAG)
        _cli(stack, "history", DEMO_DAG)

        _step(f"4. Run {DEMO_DAG} with `airflow dags test`, SQLite standing in for Redshift")
        dags_folder = workdir / "dags"
        _wait(
            "the mirrored file with the change",
            lambda: "42);" in _read(dags_folder / f"{DEMO_DAG}.py"),
            stack.deadline,
        )
        rows = _airflow_run(stack, workdir, dags_folder)
        console.print(f"  daily_orders in {workdir / 'warehouse.db'}: {rows}")
        if rows != [(LOGICAL_DATE, 42)]:
            raise DemoError(f"expected [({LOGICAL_DATE!r}, 42)] in daily_orders, got {rows}")
    except DemoError as exc:
        console.print(f"[red]demo failed:[/red] {_escape(str(exc))}")
        return 1
    finally:
        if stack is not None:
            _step("5. Stop the local stack (Ctrl-C)")
            stack.stop()
    console.print(
        f"\n[green]Demo done in {time.monotonic() - started:.0f} s.[/green] Try it yourself: "
        "`.venv/bin/dynadag local --seed examples/`, then edit rows with the AWS CLI or boto3 "
        "(see README, “Try it locally”)."
    )
    return 0


def expected_dags() -> set[str]:
    """The DAG ids the example rows compile to without problems."""
    merged: dict[str, list[Any]] = {key: [] for key in FILE_KEYS}
    for path in rows_files(EXAMPLES):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in FILE_KEYS:
            merged[key].extend(data.get(key, []))
    result = compile_dags(snapshot_from_json(merged))
    return {dag_id for dag_id, dag in result.dags.items() if dag.ok}


def dag_files(s3: Any, bucket: str, prefix: str) -> set[str]:
    """The DAG ids of the files now under `prefix`."""
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    names = (item["Key"][len(prefix) :] for item in listing.get("Contents", []))
    return {name.removesuffix(".py") for name in names if name.endswith(".py") and "/" not in name}


def _edit_row(stack: LocalProcess, bucket: str, prefix: str) -> float:
    """Update the demo task's SQL; seconds from PutItem until the new S3 version exists."""
    s3, dynamodb = stack.client("s3"), stack.client("dynamodb")
    key = f"{prefix}{DEMO_DAG}.py"
    before = len(s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []))
    sql = "INSERT OR REPLACE INTO daily_orders (day, orders) VALUES ('{{ ds }}', 42);"
    sent = time.monotonic()
    dynamodb.update_item(
        TableName="mwaa_task",
        Key={"task_id": {"S": DEMO_TASK}},
        UpdateExpression="SET task_params = :p",
        ExpressionAttributeValues={":p": {"S": json.dumps({"sql": sql})}},
    )
    _wait(
        "the new version",
        lambda: (
            len(s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])) > before
        ),
        stack.deadline,
        interval=0.01,
    )
    return time.monotonic() - sent


def _airflow_run(stack: LocalProcess, workdir: Path, dags_folder: Path) -> list[tuple[Any, ...]]:
    """`airflow db migrate` and `airflow dags test`; the rows the DAG left in SQLite."""
    home = workdir / "airflow"
    home.mkdir(exist_ok=True)
    warehouse = workdir / "warehouse.db"
    warehouse.unlink(missing_ok=True)
    aws = {"login": stack.env["AWS_ACCESS_KEY_ID"], "password": stack.env["AWS_SECRET_ACCESS_KEY"]}
    env = {
        **os.environ,
        **stack.env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__DYNADAG__RUN_HISTORY_TABLE": "dynadag_run_history",
        "AIRFLOW_CONN_REDSHIFT_DEFAULT": json.dumps(
            {"conn_type": "sqlite", "host": str(warehouse)}
        ),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {
                "conn_type": "aws",
                **aws,
                "extra": {"endpoint_url": stack.endpoint, "region_name": stack.env["AWS_REGION"]},
            }
        ),
    }
    log = home / "dags-test.log"
    for args in (["db", "migrate"], ["dags", "test", DEMO_DAG, LOGICAL_DATE]):
        console.print(f"  $ airflow {' '.join(args)}   [dim](output in {log})[/dim]")
        with log.open("a", encoding="utf-8") as out:
            remaining = max(stack.deadline - time.monotonic(), 1)
            try:
                done = subprocess.run(
                    [str(BIN / "airflow"), *args],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=remaining,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise DemoError(f"airflow {' '.join(args)} did not finish in time") from None
        if done.returncode != 0:
            raise DemoError(f"airflow {' '.join(args)} failed; see {log}")
    with contextlib.closing(sqlite3.connect(home / "airflow.db")) as metadata:
        (run_state,) = metadata.execute(
            "SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (DEMO_DAG,)
        ).fetchone()
        tasks = metadata.execute(
            "SELECT task_id, state FROM task_instance WHERE dag_id = ? ORDER BY start_date",
            (DEMO_DAG,),
        ).fetchall()
    console.print(f"  run {run_state}: " + ", ".join(f"{t} {state}" for t, state in tasks))
    if run_state != "success":
        raise DemoError(f"the run of {DEMO_DAG} ended {run_state}; see {log}")
    history = stack.client("dynamodb").query(
        TableName="dynadag_run_history",
        KeyConditionExpression="dag_id = :d",
        ExpressionAttributeValues={":d": {"S": DEMO_DAG}},
    )
    console.print(f"  task tries recorded in dynadag_run_history: {history['Count']}")
    with contextlib.closing(sqlite3.connect(warehouse)) as db:
        return db.execute("SELECT day, orders FROM daily_orders ORDER BY day").fetchall()


def _cli(stack: LocalProcess, *args: str) -> None:
    """Run a `dynadag` command against the local stack and show its output."""
    console.print(f"  $ dynadag {' '.join(args)}", style="bold")
    color = {"FORCE_COLOR": "1"} if console.is_terminal else {}
    done = subprocess.run(
        [str(BIN / "dynadag"), *args],
        env={**os.environ, **stack.env, **color, "COLUMNS": str(console.width - 4)},
        capture_output=True,
        text=True,
        timeout=max(stack.deadline - time.monotonic(), 1),
        check=False,
    )
    for line in (done.stdout + done.stderr).rstrip("\n").splitlines():
        console.print(Text("    ") + Text.from_ansi(line))
    if done.returncode != 0:
        raise DemoError(f"dynadag {' '.join(args)} exited with code {done.returncode}")


def _wait(what: str, check: Callable[[], bool], deadline: float, interval: float = 0.1) -> None:
    while not check():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out waiting for {what}")
        time.sleep(interval)


def _step(title: str) -> None:
    console.print(f"\n[bold cyan]{title}[/bold cyan]")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


if __name__ == "__main__":
    sys.exit(main())
