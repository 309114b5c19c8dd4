"""Random writes to all three tables, delivered out of order, twice, by two workers at once.

A writer thread changes rows while two workers (each its own "container": own clients,
own `DagSync`) take records from a shared pool in random batches; a record is put back
at random to be delivered again, and failed records are put back for a retry. The
workers run the same code path as the Lambda handler (`change_from_record` →
`DagSync.apply`). At the end the bucket must equal `compile_dags` of the final tables,
byte for byte: every valid DAG's file, no file of a DAG that no row produces, and every
invalid DAG recorded as invalid (its last good file, if any, stays by design).
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from lambda_compiler.dynamodb_json import row_of
from lambda_compiler.plan import change_from_record
from lambda_compiler.sync import DagSync, build_sync
from tests.integration.aws_fixtures import Stack
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto

TASK_IDS = ["1", "2", "3", "4", "5"]
JOB_KEYS = [("etl", "1"), ("etl", "2"), ("etl", "3"), ("ops", "1")]
JOB_REFS = ["2", "3", "etl:1", "ops:1", "1"]  # a bare "1" is ambiguous while ops:1 exists
NAMES = ["alpha", "beta"]  # shared names: DAG ids collide now and then


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return Stack(moto_endpoint, monkeypatch)


def random_write(stack: Stack, rng: random.Random) -> None:
    """One random put or delete; mostly valid rows, with collisions and gaps now and then."""
    kind = rng.choice(["task", "task", "job", "job", "scheduler"])
    delete = rng.random() < 0.1
    status = 0 if rng.random() < 0.05 else 1
    if kind == "task":
        task_id = rng.choice(TASK_IDS)
        if delete:
            stack.delete("task", task_id=task_id)
            return
        params = {"conn_id": "redshift_default", "sql": f"SELECT {rng.randint(1, 3)};"}
        stack.put("task", task(task_id, f"step_{task_id}", status=status, task_params=params))
    elif kind == "job":
        job_type, job_id = rng.choice(JOB_KEYS)
        if delete:
            stack.delete("job", job_type=job_type, job_id=job_id)
            return
        name = rng.choice(NAMES) if rng.random() < 0.2 else f"{job_type}_{job_id}"
        tasks = ",".join(rng.sample(TASK_IDS, rng.randint(1, 3)))
        stack.put("job", job(job_id, tasks, name, job_type=job_type, status=status))
    else:
        schedule_id = rng.choice(["1", "2"])
        if delete:
            stack.delete("scheduler", schedule_id=schedule_id)
            return
        jobs = ",".join(rng.sample(JOB_REFS, rng.randint(1, 2)))
        name = rng.choice(["daily", "hourly"])
        stack.put("scheduler", scheduler(schedule_id, jobs, name, status=status))


def slow_network(sync: DagSync, rng: random.Random) -> None:
    """Delay this worker's S3 calls a little, so its reads go stale before it writes."""
    lock = threading.Lock()

    def delay(**_: object) -> None:
        with lock:
            pause = rng.uniform(0, 0.04)
        time.sleep(pause)

    sync.publisher._client.meta.events.register("before-send.s3", delay)


class Pool:
    """Records waiting for delivery; taken in random batches, some put back as duplicates."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.records: list[dict] = []
        self.lock = threading.Lock()
        self.busy = 0

    def add(self, records: list[dict]) -> None:
        with self.lock:
            self.records.extend(records)

    def take(self) -> list[dict]:
        with self.lock:
            self.rng.shuffle(self.records)
            size = min(len(self.records), self.rng.randint(1, 6))
            batch, self.records = self.records[:size], self.records[size:]
            self.records.extend(r for r in batch if self.rng.random() < 0.25)  # duplicates
            self.busy += bool(batch)
            return batch

    def done(self, retry: list[dict]) -> None:
        with self.lock:
            self.records.extend(retry)
            self.busy -= 1

    def idle(self) -> bool:
        with self.lock:
            return not self.records and not self.busy


def work(sync: DagSync, pool: Pool, stop: threading.Event, errors: list[BaseException]) -> None:
    try:
        while not (stop.is_set() and pool.idle()):
            batch = pool.take()
            if not batch:
                time.sleep(0.01)
                continue
            report = sync.apply([change_from_record(r, sync.tables, row_of) for r in batch])
            pool.done([batch[i] for i in sorted(report.failed)])
    except BaseException as exc:  # surfaced by the test thread
        errors.append(exc)
        raise


@pytest.mark.parametrize("seed", [11, 2024])
def test_random_concurrent_out_of_order_delivery_converges_to_the_compile_of_the_tables(
    stack: Stack, seed: int
):
    rng = random.Random(seed)
    pool = Pool(random.Random(seed + 1))
    workers = [build_sync(stack.settings) for _ in range(2)]
    slow_network(workers[0], random.Random(seed + 2))
    stop = threading.Event()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=work, args=(w, pool, stop, errors)) for w in workers]
    for thread in threads:
        thread.start()
    try:
        for _ in range(30):
            random_write(stack, rng)
            if rng.random() < 0.4:
                pool.add(stack.records())
        pool.add(stack.records())
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors
    assert not any(thread.is_alive() for thread in threads)

    result = stack.compile_tables()
    files = stack.files()
    valid = {d: r.source for d, r in result.dags.items() if r.source}
    invalid = {d for d, r in result.dags.items() if not r.ok}
    assert {d: files[d] for d in valid if d in files} == valid
    assert set(files) - set(result.dags) == set(), "a file of a DAG no row produces"
    for dag_id in valid:
        record = stack.registry.get_dag(dag_id)
        assert record.outcome in ("written", "unchanged")
        assert record.sha256 == result.dags[dag_id].sha256
    for dag_id in invalid:
        assert stack.registry.get_dag(dag_id).outcome == "invalid"


def changes(sync: DagSync, records: list[dict]) -> list:
    return [change_from_record(r, sync.tables, row_of) for r in records]


def test_a_write_that_lands_after_a_newer_one_is_corrected_by_the_verify_step(stack: Stack):
    # GIVEN two workers and a published job
    slow, fast = build_sync(stack.settings), build_sync(stack.settings)
    sql = {"conn_id": "redshift_default"}
    stack.put("task", task("1", task_params={**sql, "sql": "SELECT 1;"}))
    stack.put("job", job("a", "1"))
    assert fast.apply(changes(fast, stack.records())).failed == set()
    # WHEN the slow worker has read "SELECT 2" and, just before its put lands, the task
    # changes again to "SELECT 3" and the fast worker publishes that
    stack.put("task", task("1", task_params={**sql, "sql": "SELECT 2;"}))
    stale_records = stack.records()

    def overtake(**_: object) -> None:
        slow.publisher._client.meta.events.unregister("before-send.s3.PutObject", overtake)
        stack.put("task", task("1", task_params={**sql, "sql": "SELECT 3;"}))
        assert fast.apply(changes(fast, stack.records())).failed == set()

    slow.publisher._client.meta.events.register("before-send.s3.PutObject", overtake)
    report = slow.apply(changes(slow, stale_records))
    # THEN the slow worker notices its inputs changed and rewrites the current DAG
    assert report.failed == set()
    assert report.rounds == 2
    assert "SELECT 3;" in stack.files()["job-job_a"]
    assert stack.files() == stack.expected_files()
