"""`dynadag local` runs moto and each queue worker in a process of its own, and leaves none
behind when it stops: on Ctrl-C, and when it is killed."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeSerializer
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.local import children
from lambda_compiler.local.children import QUEUE_WORKER_NICENESS
from lambda_compiler.local.process import LocalProcess
from tests.rowkit import job, task
from tests.waiting import wait_until

pytestmark = pytest.mark.moto
SHARED_BY = 12
_serialize = TypeSerializer().serialize


def children_of(pid: int) -> dict[int, list[str]]:
    """The live child processes of `pid`: their command lines, by pid (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().decode().split("\0")
        except (OSError, ValueError):  # not a process, or it ended meanwhile
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == pid and state != "Z":
            found[int(entry.name)] = command
    return found


def cpu_ticks(pid: int) -> int:
    """User + system CPU the process has used, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def alive(pids: list[int]) -> list[int]:
    """Those of `pids` still running (a zombie has ended)."""
    running = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.append(pid)
    return running


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalProcess]:
    rows = {
        "mwaa_task": [task("1")],
        "mwaa_job": [job(f"{n}", "1") for n in range(SHARED_BY)],
    }
    seed = tmp_path / "rows.json"
    seed.write_text(json.dumps(rows))
    monkeypatch.setenv("DYNADAG_OFFLOAD_ABOVE", "5")
    monkeypatch.setenv("DYNADAG_BATCH_ROWS", "4")
    running = LocalProcess(
        tmp_path / ".dynadag", seed=seed, options=("--queue-workers", "3"), timeout=120
    )
    try:
        yield running
    finally:
        running.stop()


def test_queue_workers_are_child_processes_and_build_an_offloaded_change(
    local: LocalProcess,
) -> None:
    s3, dynamodb = local.client("s3"), local.client("dynamodb")
    bucket = local.env["DYNADAG_BUCKET"]

    def bodies() -> dict[str, str]:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix="dags/job-").get("Contents", [])
        return {
            o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
            for o in listing
        }

    wait_until("the seeded DAGs", lambda: len(bodies()) == SHARED_BY, timeout=60)
    # GIVEN dynadag local with --queue-workers 3: three queue workers and a moto server,
    # each a process of its own
    children = children_of(local.process.pid)
    workers = [pid for pid, command in children.items() if "queue-worker" in command]
    assert len(workers) == 3
    assert sum("moto" in command for command in children.values()) == 1
    assert local.process.pid not in workers
    used = sum(cpu_ticks(pid) for pid in workers)
    # AND the workers yield the cores to the stream worker and moto
    stack_nice = os.getpriority(os.PRIO_PROCESS, local.process.pid)
    assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in workers} == {
        min(stack_nice + QUEUE_WORKER_NICENESS, 19)
    }  # 19: the lowest
    moto = next(pid for pid, command in children.items() if "moto" in command)
    assert os.getpriority(os.PRIO_PROCESS, moto) == stack_nice

    # WHEN a task shared by more jobs than DYNADAG_OFFLOAD_ABOVE changes
    dynamodb.put_item(
        TableName="mwaa_task",
        Item={k: _serialize(v) for k, v in task("1", name="fanned_out").items()},
    )

    # THEN every job's file gets it, built by the worker processes
    wait_until("every job", lambda: all("fanned_out" in b for b in bodies().values()), timeout=60)
    assert sum(cpu_ticks(pid) for pid in workers) > used


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_no_child_outlives_the_stack(local: LocalProcess, how: signal.Signals) -> None:
    children = list(children_of(local.process.pid))
    assert len(children) == 4  # moto and three queue workers

    mark = local.mark()

    local.stop(how)

    wait_until("every child to end", lambda: not alive(children), timeout=30)
    if how == signal.SIGINT:
        assert local.process.returncode == 0
        local.wait_for_line("^stopped$", after=mark, timeout=5)
        assert not any("Traceback" in line for line in local.seen), local.seen


def test_a_queue_worker_that_dies_is_reported(local: LocalProcess) -> None:
    workers = [pid for pid, cmd in children_of(local.process.pid).items() if "queue-worker" in cmd]
    mark = local.mark()

    os.kill(workers[0], signal.SIGKILL)

    local.wait_for_line(r"queue worker: ChildError: the process exited with code -9", after=mark)


@pytest.fixture
def hanging_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every child started from now on is a Python that never says ``ready``."""
    (tmp_path / "hanging_child.py").write_text("import time\ntime.sleep(600)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(children, "MODULE", "hanging_child")
    monkeypatch.setattr(children, "READY_TIMEOUT", 2.0)
    return tmp_path


def test_a_child_that_never_gets_ready_is_stopped_with_one_line(hanging_children: Path) -> None:
    child = children.Child(children.MOTO, "127.0.0.1", "0")

    with pytest.raises(children.ChildError) as raised:
        child.ready()

    assert str(raised.value) == "the moto process did not start within 2 s; it was stopped"
    assert child.process.poll() is not None  # not left running


def test_local_says_in_one_line_that_moto_did_not_start(
    hanging_children: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(hanging_children)
    before = children_of(os.getpid())  # e.g. a resource tracker an earlier test started

    result = CliRunner().invoke(app, ["local", "--port", "0"])

    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: the moto process did not start within 2 s; it was stopped"]
    assert "Traceback" not in result.output
    assert children_of(os.getpid()).keys() <= before.keys()  # no child left behind
