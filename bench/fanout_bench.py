"""Fan-out benchmarks (issue 12): rebuild throughput and memory vs worker processes, and a
shared task fanned out on the local stack while an unrelated change lands.

(a) `--jobs` 20-task jobs (plus one scheduler per ten jobs) in a moto server of its own
    process; the same rebuild (`dynadag rebuild --workers N`'s code: `fanout.prepare_rebuild`,
    then `fanout_worker.build_item_here` on N spawned processes) for each N, each into a
    fresh registry table and dags prefix, so every run writes every DAG. Prints DAGs/s,
    the speedup against one worker in the same run, and each worker's peak RSS.
(b) `dynadag local` seeded with `--fanout-jobs` jobs sharing one task: time from changing the
    task until every job's file holds the change, and the latency of an unrelated one-row
    change written right after it.

    PYTHONPATH=$PWD .venv/bin/python -m bench.fanout_bench --jobs 1800 --workers 1,2,4
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import boto3
import psutil
from boto3.dynamodb.types import TypeSerializer

from bench.handler_bench import environment, load, moto_process, reset
from bench.peak_rss import peak_rss_kb
from bench.synthetic import synthetic_rows
from lambda_compiler.compiler import compile_dags
from lambda_compiler.fanout import Fanout, Runs, prepare_rebuild
from lambda_compiler.fanout_worker import _start_process, build_item_here, build_worker
from lambda_compiler.local.children import MODULE, MOTO
from lambda_compiler.local.resources import read_resources
from lambda_compiler.rebuild import run_rebuild
from lambda_compiler.settings import Settings
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.sync import build_sync

_serialize = TypeSerializer().serialize


def _item_with_rss(body: str) -> tuple[int, int, int, int, int]:
    """Build one work item in this worker process: (DAG outcomes, failed, peak RSS in KB,
    this process's id, its RSS in KB now that the batch is done)."""
    result = build_item_here(body)
    peak = peak_rss_kb()
    now = psutil.Process().memory_info().rss // 1024
    return len(result.dags), len(result.failed), peak, os.getpid(), now


def fresh_target(label: str) -> Settings:
    """A new registry table and dags prefix, so the next rebuild writes every DAG."""
    definition = read_resources().tables["RegistryTable"].create_table_kwargs()
    definition["TableName"] = f"registry-{label}-{uuid.uuid4().hex[:6]}"
    boto3.client("dynamodb").create_table(**definition)
    os.environ["DYNADAG_REGISTRY_TABLE"] = definition["TableName"]
    os.environ["DYNADAG_DAGS_PREFIX"] = f"{label}-{uuid.uuid4().hex[:6]}/"
    return Settings.from_env()


def rebuild(workers: int, label: str) -> dict[str, Any]:
    """One full rebuild on `workers` processes: seconds, DAGs, peak RSS per worker."""
    settings = fresh_target(label)
    sync = build_sync(settings)
    started = time.perf_counter()
    work, _ = prepare_rebuild(sync)
    fanout = Fanout(None, Runs(sync.source.client, settings.registry_table), 50)
    run, items = fanout.plan(work, "rebuild")
    fanout.runs.start(run)
    enumerated = time.perf_counter() - started
    failed = 0
    peaks: dict[int, int] = {}
    after_batch: dict[int, list[int]] = {}
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_process) as pool:
        futures = [pool.submit(_item_with_rss, item.body()) for item in items]
        for future in as_completed(futures):
            _, not_built, peak, pid, now = future.result()
            failed, peaks[pid] = failed + not_built, max(peak, peaks.get(pid, 0))
            after_batch.setdefault(pid, []).append(now)
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "enumerate_s": enumerated,
        "dags": len(set(work.dag_ids.values())),
        "failed": failed,
        "batches": len(items),
        "peak_rss_mb": ", ".join(f"{peaks[pid] / 1024:.0f}" for pid in sorted(peaks)),
        "rss_growth": _rss_growth(after_batch),
    }


def _rss_growth(after_batch: dict[int, list[int]]) -> str:
    """Each worker's RSS (MB) after its 2nd batch, a quarter, half, three quarters of its
    batches and its last, and the growth per batch over its second half (does it level off
    once the first batches have warmed the process up, or keep growing with the work?)."""
    parts = []
    for series in after_batch.values():
        if len(series) < 4:
            continue
        n = len(series)
        points = [series[i] for i in (1, n // 4, n // 2, 3 * n // 4, n - 1)]
        second_half = (series[-1] - series[n // 2]) / (n - 1 - n // 2)
        parts.append(
            " -> ".join(f"{kb / 1024:.0f}" for kb in points)
            + f" MB over {n} batches ({second_half:+.0f} KB/batch in the second half)"
        )
    return "; ".join(parts) or "too few batches per worker"


def part_a(jobs_list: list[int], workers_list: list[int]) -> None:
    with moto_process() as endpoint:
        environment(endpoint)
        for jobs in jobs_list:
            reset(endpoint)
            load(synthetic_rows(jobs=jobs, tasks_per_job=20, schedulers=max(1, jobs // 10)))
            base = None
            for workers in workers_list:
                figures = rebuild(workers, f"w{workers}")
                rate = figures["dags"] / figures["seconds"]
                base = base or rate
                print(
                    f"(a) {jobs} jobs, {workers} worker(s): {figures['dags']:.0f} DAGs in "
                    f"{figures['seconds']:.1f} s ({rate:.1f} DAGs/s, speedup {rate / base:.2f}, "
                    f"per worker {rate / base / workers:.2f}); enumerate + runtime upload "
                    f"{figures['enumerate_s']:.1f} s; {figures['batches']:.0f} batches; peak RSS "
                    f"per worker {figures['peak_rss_mb']} MB; RSS after batches "
                    f"{figures['rss_growth']}; "
                    f"failed {figures['failed']:.0f}",
                    flush=True,
                )


class RoundTrips:
    """Counts requests and sequential round trips (a round trip starts when a request is
    sent while none is in flight) made by every client of a boto3 session."""

    def __init__(self, events: Any) -> None:
        self.requests: Counter[str] = Counter()
        self.trips = 0
        self.counting = False
        self._in_flight = 0
        self._lock = threading.Lock()
        self.written = 0
        """Items written to DynamoDB (each under 1 KB here: write request units)."""
        events.register("before-send", self._sent)
        events.register("needs-retry", self._answered)
        events.register("before-parameter-build.dynamodb", self._writes)

    def _sent(self, event_name: str, **_: Any) -> None:
        with self._lock:
            if self.counting:
                self.requests[".".join(event_name.split(".")[1:3])] += 1
                self.trips += self._in_flight == 0
            self._in_flight += 1

    def _writes(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        operation = event_name.split(".")[2]
        if operation == "BatchWriteItem":
            items = sum(len(requests) for requests in params["RequestItems"].values())
        else:
            items = operation in ("PutItem", "UpdateItem", "DeleteItem")
        with self._lock:
            self.written += items * self.counting

    def _answered(self, **_: Any) -> None:
        with self._lock:
            self._in_flight -= 1


def moto_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process's moto-server children."""
    total = 0.0
    for child in psutil.Process().children():
        command = child.cmdline()
        if {MODULE, MOTO} <= set(command) or "bench.moto_server" in command:
            times = child.cpu_times()
            total += times.user + times.system
    return total


@dataclass
class Cost:
    """What building some DAGs cost this process, its moto server and the wire."""

    dags: int
    cpu: float
    wall: float
    moto: float
    requests: Counter[str]
    trips: int
    written: int

    def text(self) -> str:
        per = 1000 / self.dags
        detail = ", ".join(f"{k} {v / self.dags:.2f}" for k, v in sorted(self.requests.items()))
        return (
            f"{self.dags} DAGs: own CPU {self.cpu * per:.1f} ms/DAG; wall {self.wall * per:.1f} "
            f"ms/DAG, moto CPU {self.moto * per:.1f} ms/DAG, waiting (wall - own CPU) "
            f"{(self.wall - self.cpu) * per:.1f} ms/DAG; "
            f"{sum(self.requests.values()) / self.dags:.2f} requests/DAG ({detail}); "
            f"{self.written / self.dags:.1f} DynamoDB items written/DAG"
        )


def cost_of(trips: RoundTrips, build: Callable[[], int], profile: Path | None = None) -> Cost:
    """The cost of `build()` (which returns the DAGs it built), optionally profiled."""
    trips.requests.clear()
    trips.trips = trips.written = 0
    profiler = cProfile.Profile() if profile else None
    trips.counting = True
    cpu, wall, moto = time.process_time(), time.perf_counter(), moto_cpu_seconds()
    if profiler:
        profiler.enable()
    dags = build()
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    trips.counting = False
    moto = moto_cpu_seconds() - moto
    return Cost(dags, cpu, wall, moto, Counter(trips.requests), trips.trips, trips.written)


def part_c(jobs: int, batches: int, profile: Path | None) -> None:
    """(c): one worker process's own CPU per DAG for batches of 50 job rows x 20 tasks,
    against the pure compile CPU of the same DAGs; requests per DAG; round trips per batch;
    moto's CPU and the time the worker waits; then the same for the single-process
    `run_rebuild` of the whole tables (what the fan-out replaced)."""
    with moto_process() as endpoint:
        settings = environment(endpoint)
        reset(endpoint)
        rows = synthetic_rows(jobs=jobs, tasks_per_job=20, schedulers=0)
        load(rows)
        settings = fresh_target("c")
        session = boto3.Session()
        trips = RoundTrips(session.events)
        worker = build_worker(settings, session)
        work, _ = prepare_rebuild(worker.sync)
        fanout = Fanout(None, worker.runs, 50)
        run, items = fanout.plan(work, "rebuild")
        worker.runs.start(run)
        build_item_here(items[0].body(), worker)  # the container's first batch: warm-up
        measured = items[1 : 1 + batches]
        cost = cost_of(
            trips,
            lambda: sum(len(build_item_here(i.body(), worker).dags) for i in measured),
            profile,
        )
        ids = {dict(ref.key)["job_id"] for item in measured for ref in item.owners}
        batch_jobs = [j for j in rows["mwaa_job"] if j["job_id"] in ids]
        listed = {t for j in batch_jobs for t in j["task_list"].split(",")}
        snapshot = Snapshot(
            [t for t in rows["mwaa_task"] if t["task_id"] in listed], batch_jobs, []
        )
        compile_dags(snapshot)  # warm
        pure = time.process_time()
        compiled = compile_dags(snapshot)
        pure = time.process_time() - pure
        assert len(compiled.dags) == cost.dags, (len(compiled.dags), cost.dags)
        print(
            f"(c) worker, {len(measured)} batch(es) of 50 job rows x 20 tasks, {cost.text()}; "
            f"{cost.trips / len(measured):.1f} sequential round trips per batch; pure compile "
            f"CPU {pure * 1000 / cost.dags:.1f} ms/DAG; own CPU / pure compile CPU "
            f"{cost.cpu / pure:.2f}",
            flush=True,
        )
        settings = fresh_target("old")
        sync = build_sync(settings, session=session)
        old = cost_of(trips, lambda: len(run_rebuild(settings, sync=sync).written))
        print(
            f"(c) single-process run_rebuild of all {jobs} jobs, {old.text()}; own CPU / pure "
            f"compile CPU {old.cpu / (pure / cost.dags * old.dags):.2f}",
            flush=True,
        )


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("timed out")
        time.sleep(interval)
    return time.perf_counter() - started


def part_b(jobs: int, queue_workers: int, after_offload: bool) -> None:
    """(b); with `after_offload`, the unrelated change is written once the shared task's
    stream record has been offloaded (else right after it: both usually reach the stream
    handler in one batch)."""
    from lambda_compiler.local.process import LocalProcess

    rows = {
        "mwaa_task": [
            {"task_id": "shared", "task_name": "shared", "task_type": "SQL", "status": 1,
             "task_params": json.dumps({"conn_id": "redshift_default", "sql": "SELECT 1;"})},
            {"task_id": "solo", "task_name": "solo", "task_type": "SQL", "status": 1,
             "task_params": json.dumps({"conn_id": "redshift_default", "sql": "SELECT 2;"})},
        ],
        "mwaa_job": [
            {"job_type": "etl", "job_id": str(n), "job_name": f"fan_{n:05d}",
             "task_list": "shared", "job_task_dependencies": "[]", "status": 1}
            for n in range(jobs)
        ]
        + [{"job_type": "etl", "job_id": "solo", "job_name": "solo", "task_list": "solo",
            "job_task_dependencies": "[]", "status": 1}],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        seed = Path(folder) / "rows.json"
        seed.write_text(json.dumps(rows))
        started = time.perf_counter()
        local = LocalProcess(
            Path(folder) / ".dynadag",
            seed=seed,
            options=("--queue-workers", str(queue_workers)),
            timeout=1800,
        )
        try:
            s3, dynamodb = local.client("s3"), local.client("dynamodb")
            bucket = local.env["DYNADAG_BUCKET"]

            def files() -> dict[str, Any]:
                found = {}
                for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix="dags/job-"
                ):
                    found.update({o["Key"]: o["LastModified"] for o in page.get("Contents", [])})
                return found

            seeded = wait_until(lambda: len(files()) == jobs + 1, 1800, interval=1.0)
            print(f"(b) {jobs + 1} seeded DAGs built in {time.perf_counter() - started:.0f} s "
                  f"(seeding {seeded:.0f} s after start-up)", flush=True)  # fmt: skip
            before = files()
            shared = rows["mwaa_task"][0] | {"task_name": "shared_v2"}
            solo = rows["mwaa_task"][1] | {"task_name": "solo_v2"}
            runs = Runs(dynamodb, read_resources().tables["RegistryTable"].name)
            seeded_run = runs.latest()

            def write(row: dict[str, Any]) -> float:
                item = {k: _serialize(v) for k, v in row.items()}
                dynamodb.put_item(TableName="mwaa_task", Item=item)
                return time.perf_counter()

            changed = write(shared)
            if after_offload:  # the fan-out's stream record handled (offloaded) first
                wait_until(lambda: runs.latest() != seeded_run, 600, interval=0.2)
            solo_key = "dags/job-solo.py"
            solo_etag = s3.head_object(Bucket=bucket, Key=solo_key)["ETag"]
            solo_written = write(solo)
            # One HEAD per poll: listing all files every 50 ms would load moto, which the
            # stream shares, and slow what is measured.
            wait_until(
                lambda: s3.head_object(Bucket=bucket, Key=solo_key)["ETag"] != solo_etag, 3600
            )
            latency = time.perf_counter() - solo_written
            everything = wait_until(
                lambda: all(v != before[k] for k, v in files().items()), 3600, interval=1.0
            )
            when = "once the fan-out was offloaded" if after_offload else "right after it"
            print(
                f"(b) one task shared by {jobs} jobs, {queue_workers} queue worker(s): every "
                f"file updated {time.perf_counter() - changed:.1f} s after the change "
                f"({everything:.1f} s after the unrelated one landed); the unrelated one-row "
                f"change written {when} landed in {latency:.2f} s (target < 2 s)",
                flush=True,
            )
        finally:
            local.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1800", help="comma-separated job counts for (a)")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--fanout-jobs", type=int, default=2000, help="jobs sharing a task (b)")
    parser.add_argument("--queue-workers", type=int, default=2, help="local queue workers (b)")
    parser.add_argument("--batch-jobs", type=int, default=300, help="jobs in the tables (c)")
    parser.add_argument("--batches", type=int, default=4, help="batches measured (c)")
    parser.add_argument("--profile", type=Path, help="cProfile stats of the batches (c)")
    parser.add_argument("--after-offload", action="store_true", help="see part_b (b)")
    parser.add_argument("--part", choices=["a", "b", "c", "ab"], default="ab")
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DYNADAG_S3_WRITES_PER_SECOND", "0")
    if "a" in args.part:
        part_a([int(j) for j in args.jobs.split(",")], [int(w) for w in args.workers.split(",")])
    if "c" in args.part:
        part_c(args.batch_jobs, args.batches, args.profile)
    if "b" in args.part:
        part_b(args.fanout_jobs, args.queue_workers, args.after_offload)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
