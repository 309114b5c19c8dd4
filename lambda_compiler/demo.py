"""`make demo`: save a DynamoDB item and the Airflow DAG appears, on this machine.

1. starts `dynadag local --seed examples/rows.json` (DynamoDB, Streams and S3 on
   127.0.0.1, the real Lambda handler, the dags mirror), the README's first run, and
   waits for the example DAGs;
2. saves the rows of `examples/sqlite_demo.json` with boto3 and waits for their DAG,
   then lists the files (`dynadag ls`) and shows it (`dynadag show`);
3. edits one row with boto3 and shows the new version arriving (`dynadag diff`);
4. runs that job DAG with `airflow dags test` against the mirrored dags folder, a
   SQLite database standing in for Redshift (connection `redshift_default`);
5. stops the local stack (`make airflow` then shows the DAGs in the Airflow UI).

Everything lives under `.dynadag/` (or `$DYNADAG_DEMO_DIR`); the demo takes under a
minute and gives up after `TIME_LIMIT` seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from lambda_compiler.compiler import compile_dags
from lambda_compiler.local.airflow import airflow_environment
from lambda_compiler.local.process import LocalProcess, LocalProcessError
from lambda_compiler.rows_file import put_rows, read_rows_file, rows_files
from lambda_compiler.snapshot import FILE_KEYS, TableNames, snapshot_from_json

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIRST_SEED = EXAMPLES / "rows.json"  # the README's first run: every row compiles cleanly
DEMO_ROWS = EXAMPLES / "sqlite_demo.json"
BIN = Path(sys.executable).parent
DEMO_DAG = "job-sqlite_orders"
DEMO_TASK = "202"
LOGICAL_DATE = "2024-01-01"
TIME_LIMIT = 300.0
PREFIX = "dags/"
RUN_HISTORY_TABLE = "dynadag_run_history"

console = Console(highlight=False, soft_wrap=True)


class DemoError(RuntimeError):
    """A step did not happen in time or failed; the message says which."""


def main() -> int:
    """Run the demo; exit code 0 when every step happened."""
    workdir = Path(os.environ.get("DYNADAG_DEMO_DIR") or ROOT / ".dynadag").resolve()
    started = time.monotonic()
    stack: LocalProcess | None = None
    try:
        _step(f"1. Start the local stack with the example rows (--seed {_shown(FIRST_SEED)})")
        stack = LocalProcess(workdir, seed=FIRST_SEED, timeout=TIME_LIMIT, echo=_echo_local)
        Demo(stack, workdir, started + TIME_LIMIT).run()
    except (DemoError, LocalProcessError) as exc:
        console.print(f"[red]demo failed:[/red] {escape(str(exc))}")
        return 1
    finally:
        if stack is not None:
            _step("5. Stop the local stack (Ctrl-C)")
            stack.stop()
    console.print(
        f"\n[green]Demo done in {time.monotonic() - started:.0f} s.[/green] Try it yourself: "
        f"`source .venv/bin/activate`, `dynadag local --seed {_shown(FIRST_SEED)}`, then edit "
        "rows with the AWS CLI or boto3 (see README, “Try it locally”). See the DAGs in the "
        "Airflow UI and run them: `make airflow`."
    )
    return 0


class Demo:
    """Steps 2 to 4, against a running local stack, all before `deadline`."""

    def __init__(self, stack: LocalProcess, workdir: Path, deadline: float) -> None:
        self.stack = stack
        self.workdir = workdir
        self.deadline = deadline
        self.bucket = stack.env["DYNADAG_BUCKET"]
        self.s3 = stack.client("s3")

    def run(self) -> None:
        expected = expected_dags(FIRST_SEED)
        self.wait(
            f"the {len(expected)} example DAGs in S3",
            lambda: expected <= dag_files(self.s3, self.bucket, PREFIX),
        )
        _step(f"2. Save the rows of {_shown(DEMO_ROWS)} with boto3: their DAG appears")
        sent = time.monotonic()
        count = put_rows(self.stack.client("dynamodb"), read_rows_file(DEMO_ROWS), TableNames())
        self.wait(
            f"{DEMO_DAG}.py in S3", lambda: DEMO_DAG in dag_files(self.s3, self.bucket, PREFIX)
        )
        console.print(
            f"  PutItem x {count} → {DEMO_DAG}.py in S3 in {time.monotonic() - sent:.2f} s"
        )
        self.cli("ls")
        self.cli("show", DEMO_DAG)

        _step(f"3. Change one row: task {DEMO_TASK} now loads 42 orders instead of 40")
        seconds = self.edit_row()
        self.stack.wait_for_line(
            rf"mwaa_task\[task_id='{DEMO_TASK}'\] → wrote {DEMO_DAG}", timeout=self.remaining()
        )
        console.print(f"  PutItem → new S3 version of {DEMO_DAG}.py in {seconds:.2f} s")
        self.cli("diff", DEMO_DAG)
        self.cli("history", DEMO_DAG)

        _step(f"4. Run {DEMO_DAG} with `airflow dags test`, SQLite standing in for Redshift")
        mirrored = self.stack.dags_folder / f"{DEMO_DAG}.py"
        self.wait("the mirrored file with the change", lambda: "42);" in _read(mirrored))
        rows = self.airflow_run()
        console.print(f"  daily_orders in {self.workdir / 'warehouse.db'}: {rows}")
        if rows != [(LOGICAL_DATE, 42)]:
            raise DemoError(f"expected [({LOGICAL_DATE!r}, 42)] in daily_orders, got {rows}")

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 1.0)

    def wait(self, what: str, check: Callable[[], bool], interval: float = 0.1) -> None:
        while not check():
            if time.monotonic() > self.deadline:
                raise DemoError(f"timed out waiting for {what}")
            time.sleep(interval)

    def versions(self) -> int:
        listing = self.s3.list_object_versions(Bucket=self.bucket, Prefix=f"{PREFIX}{DEMO_DAG}.py")
        return len(listing.get("Versions", []))

    def edit_row(self) -> float:
        """Update the demo task's SQL; seconds from the write until the new S3 version exists."""
        before = self.versions()
        sql = "INSERT OR REPLACE INTO daily_orders (day, orders) VALUES ('{{ ds }}', 42);"
        sent = time.monotonic()
        self.stack.client("dynamodb").update_item(
            TableName="mwaa_task",
            Key={"task_id": {"S": DEMO_TASK}},
            UpdateExpression="SET task_params = :p",
            ExpressionAttributeValues={":p": {"S": json.dumps({"sql": sql})}},
        )
        self.wait("the new version", lambda: self.versions() > before, interval=0.01)
        return time.monotonic() - sent

    def cli(self, *args: str) -> None:
        """Run a `dynadag` command against the local stack and show its output."""
        console.print(f"  $ dynadag {' '.join(args)}", style="bold")
        color = {"FORCE_COLOR": "1"} if console.is_terminal else {}
        done = subprocess.run(
            [str(BIN / "dynadag"), *args],
            env={**os.environ, **self.stack.env, **color, "COLUMNS": str(console.width - 4)},
            capture_output=True,
            text=True,
            timeout=self.remaining(),
            check=False,
        )
        for line in (done.stdout + done.stderr).rstrip("\n").splitlines():
            console.print(Text("    ") + Text.from_ansi(line))
        if done.returncode != 0:
            raise DemoError(f"dynadag {' '.join(args)} exited with code {done.returncode}")

    def airflow_run(self) -> list[tuple[Any, ...]]:
        """`airflow db migrate` and `airflow dags test`; the rows the DAG left in SQLite."""
        home = self.workdir / "airflow"
        home.mkdir(exist_ok=True)
        warehouse = self.workdir / "warehouse.db"
        warehouse.unlink(missing_ok=True)
        log = home / "dags-test.log"
        env = airflow_environment(
            home,
            self.stack.dags_folder,
            self.stack.env,
            warehouse=warehouse,
            run_history_table=RUN_HISTORY_TABLE,
        )
        for args in (["db", "migrate"], ["dags", "test", DEMO_DAG, LOGICAL_DATE]):
            console.print(f"  $ airflow {' '.join(args)}   [dim](output in {log})[/dim]")
            with log.open("a", encoding="utf-8") as out:
                try:
                    done = subprocess.run(
                        [str(BIN / "airflow"), *args],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        timeout=self.remaining(),
                        check=False,
                    )
                except subprocess.TimeoutExpired:
                    raise DemoError(f"airflow {' '.join(args)} did not finish in time") from None
            if done.returncode != 0:
                raise DemoError(f"airflow {' '.join(args)} failed; see {log}")
        run_state, tasks = _last_run(home / "airflow.db")
        console.print(f"  run {run_state}: " + ", ".join(f"{t} {state}" for t, state in tasks))
        if run_state != "success":
            raise DemoError(f"the run of {DEMO_DAG} ended {run_state}; see {log}")
        history = self.stack.client("dynamodb").query(
            TableName=RUN_HISTORY_TABLE,
            KeyConditionExpression="dag_id = :d",
            ExpressionAttributeValues={":d": {"S": DEMO_DAG}},
        )
        console.print(f"  task tries recorded in dynadag_run_history: {history['Count']}")
        with contextlib.closing(sqlite3.connect(warehouse)) as db:
            return db.execute("SELECT day, orders FROM daily_orders ORDER BY day").fetchall()


def expected_dags(path: Path) -> set[str]:
    """The DAG ids the rows file(s) at `path` compile to without problems."""
    merged: dict[str, list[Any]] = {key: [] for key in FILE_KEYS}
    for file in rows_files(path):
        data = json.loads(file.read_text(encoding="utf-8"))
        for key in FILE_KEYS:
            merged[key].extend(data.get(key, []))
    result = compile_dags(snapshot_from_json(merged))
    return {dag_id for dag_id, dag in result.dags.items() if dag.ok}


def dag_files(s3: Any, bucket: str, prefix: str) -> set[str]:
    """The DAG ids of the files now under `prefix`."""
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    names = (item["Key"][len(prefix) :] for item in listing.get("Contents", []))
    return {name.removesuffix(".py") for name in names if name.endswith(".py") and "/" not in name}


def _last_run(metadata_db: Path) -> tuple[str, list[tuple[str, str]]]:
    """The state of the demo DAG's last run and of its tasks, from Airflow's database."""
    with contextlib.closing(sqlite3.connect(metadata_db)) as metadata:
        (run_state,) = metadata.execute(
            "SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (DEMO_DAG,)
        ).fetchone()
        tasks = metadata.execute(
            "SELECT task_id, state FROM task_instance WHERE dag_id = ? ORDER BY start_date",
            (DEMO_DAG,),
        ).fetchall()
    return run_state, tasks


def _shown(path: Path) -> str:
    """`path` as the README writes it, relative to the repository."""
    return str(path.relative_to(ROOT))


def _echo_local(line: str) -> None:
    console.print(f"  [dim]local │[/dim] {escape(line)}")


def _step(title: str) -> None:
    console.print(f"\n[bold cyan]{title}[/bold cyan]")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
