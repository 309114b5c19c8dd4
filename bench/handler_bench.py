"""Event-driven compile: handler cost per affected DAG, requests per change, rebuild throughput.

    .venv/bin/python -m bench.handler_bench [--jobs 1000] [--rebuild-jobs 1000]

Runs against a moto server in its own process on 127.0.0.1 (so moto's CPU is not the
handler's) that keeps connections alive as AWS endpoints do (`bench.moto_server`), with
the tables and bucket of `template.yaml`.

(a) handler time for a one-task change that rebuilds one (or ten) 20-task job DAGs,
    divided by the pure `compile_dags` time of those DAGs' rows: wall time, and the
    handler process's own CPU (`time.process_time`, every thread of this process; moto's
    CPU is in its own process) per affected DAG ÷ pure compile CPU (target ≤ 1.3), and
    how much of it the AWS requests alone take (each calling thread's CPU from
    ``before-parameter-build`` to ``after-call``: botocore, urllib3, http.client, parsing).
    `--pairs N` repeats it N times alternately with the handler's DynamoDB client parsing
    items with botocore's own parser, the baseline of `wire_items`; `--freeze-pairs N`
    runs it at 1 DAG N times alternately as in Lambda (`warm_container` freezes the
    objects alive after the first change) and not, and prints means and medians.
(b) requests per one-task change (by operation) and the sequential round trips they
    take (target ≤ 4) with 1 and with `--jobs` jobs in the tables, and the Scan pages a
    design without the reverse index would read per change.
(c) `dynadag rebuild` (`run_rebuild`) throughput for `--rebuild-jobs` jobs x 20 tasks
    + jobs/10 schedulers: a first rebuild (everything written) and a second (nothing
    changed: nothing rendered, nothing written), and second ÷ first (target ≤ 0.2).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

from bench.synthetic import synthetic_rows
from lambda_compiler.compiler import compile_dags
from lambda_compiler.local.provision import provision
from lambda_compiler.local.resources import read_resources
from lambda_compiler.local.streams import LambdaContext, lambda_record
from lambda_compiler.rebuild import run_rebuild
from lambda_compiler.settings import Settings
from lambda_compiler.snapshot import Snapshot
from lambda_compiler.warm_container import freeze_after_warm_up
from lambda_compiler.wire_items import ITEMS_OF, lift_items
from tests.integration.aws_fixtures import count_requests, round_trips, timed_requests

BUCKET = "bench-dags"
_serialize = TypeSerializer().serialize


@contextlib.contextmanager
def moto_process() -> Iterator[str]:
    """A moto server in a child process on a free loopback port, keeping connections alive."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.moto_server", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1)
                break
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def environment(endpoint: str) -> Settings:
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        DYNADAG_BUCKET=BUCKET,
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_NAMESPACE="dynadag",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    return Settings.from_env()


def reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    provision(read_resources(), boto3.client("dynamodb"), boto3.client("s3"), BUCKET)


def load(rows: dict[str, list[dict[str, Any]]]) -> None:
    dynamodb = boto3.client("dynamodb")
    for table, items in rows.items():
        for start in range(0, len(items), 25):
            pending = {
                table: [
                    {"PutRequest": {"Item": {k: _serialize(v) for k, v in item.items()}}}
                    for item in items[start : start + 25]
                ]
            }
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending)["UnprocessedItems"]


class Streams:
    """Reads new records of the task table's stream, shaped as Lambda delivers them."""

    def __init__(self, table: str = "mwaa_task") -> None:
        self.client = boto3.client("dynamodbstreams")
        self.arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        shard = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]
        self.iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]

    def read(self) -> list[dict[str, Any]]:
        page = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = page["NextShardIterator"]
        return [lambda_record(r, self.arn, "us-east-1") for r in page["Records"]]


def change_task(task: dict[str, Any], n: int) -> dict[str, Any]:
    """The task with SQL that differs on every call, so the job DAG's bytes change."""
    params = json.loads(task["task_params"])
    params["sql"] = f"{params['sql']} -- change {n}"
    return {**task, "task_params": json.dumps(params)}


def put(table: str, item: dict[str, Any]) -> None:
    boto3.client("dynamodb").put_item(
        TableName=table, Item={k: _serialize(v) for k, v in item.items()}
    )


@contextlib.contextmanager
def as_in_lambda() -> Iterator[None]:
    """``AWS_LAMBDA_FUNCTION_NAME`` set, so the handler's first call freezes what stays
    alive (`warm_container`); the environment and the collector restored afterwards."""
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "bench"
    freeze_after_warm_up.cache_clear()
    try:
        yield
    finally:
        del os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        gc.unfreeze()
        freeze_after_warm_up.cache_clear()


def handler_vs_compile(
    settings: Settings, jobs: int, repeats: int, botocore_items: bool = False
) -> dict[str, float]:
    """(a): median handler time for a change of one task listed by `jobs` 20-task jobs,
    divided by the median pure `compile_dags` time of those job DAGs' rows.

    `botocore_items`: the handler's DynamoDB client parses items with botocore's own
    parser (as before `wire_items`), the baseline of the comparison."""
    from lambda_compiler.handler import lambda_handler, sync_for

    rows = synthetic_rows(jobs=jobs, tasks_per_job=20, schedulers=0)
    shared = {**rows["mwaa_task"][0], "task_id": "shared", "task_name": "shared_step"}
    rows["mwaa_task"].append(shared)
    for job in rows["mwaa_job"]:
        job["task_list"] += ",shared"
    load(rows)
    sync_for.cache_clear()  # fresh clients: a baseline run's client is not reused
    sync = sync_for(settings)
    if botocore_items:
        for operation in ITEMS_OF:
            sync.source.client.meta.events.unregister(
                f"before-parse.dynamodb.{operation}", lift_items
            )
    run_rebuild(settings, sync=sync)
    streams = Streams()
    handler_times, compile_times, handler_cpu, compile_cpu = [], [], [], []
    request_cpu, request_counts = [], []
    clients = (sync.source._client, sync.publisher._client)
    for n in range(repeats + 1):
        changed = change_task(shared, n)
        put("mwaa_task", changed)
        event = {"Records": streams.read()}
        with timed_requests(*clients) as requests:
            cpu, started = time.process_time(), time.perf_counter()
            response = lambda_handler(event, LambdaContext())
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert response["batchItemFailures"] == [], response
        tasks = [changed if t is shared else t for t in rows["mwaa_task"]]
        compile_cpu_n, started = time.process_time(), time.perf_counter()
        compiled = compile_dags(Snapshot(tasks, rows["mwaa_job"], []))
        compile_elapsed = time.perf_counter() - started
        compile_cpu_n = time.process_time() - compile_cpu_n
        assert len(compiled.dags) == jobs and all(d.ok for d in compiled.dags.values())
        if n:  # the first call pays for the container's clients
            handler_times.append(elapsed)
            compile_times.append(compile_elapsed)
            handler_cpu.append(cpu)
            compile_cpu.append(compile_cpu_n)
            request_cpu.append(sum(r.cpu for r in requests))
            request_counts.append(len(requests))
    handler, pure = statistics.median(handler_times), statistics.median(compile_times)
    cpu, pure_cpu = statistics.median(handler_cpu), statistics.median(compile_cpu)
    return {
        "handler_ms": handler * 1000 / jobs,
        "compile_ms": pure * 1000 / jobs,
        "ratio": handler / pure,
        "handler_cpu_ms": cpu * 1000 / jobs,
        "compile_cpu_ms": pure_cpu * 1000 / jobs,
        "cpu_ratio": cpu / pure_cpu,
        "handler_cpu_mean_ms": statistics.fmean(handler_cpu) * 1000 / jobs,
        "compile_cpu_mean_ms": statistics.fmean(compile_cpu) * 1000 / jobs,
        "requests": statistics.median(request_counts),
        "request_cpu_ms": statistics.median(request_cpu) * 1000 / jobs,
        "request_share": statistics.median(request_cpu) / pure_cpu,
    }


def requests_per_change(
    settings: Settings, jobs: int
) -> tuple[Counter[str], list[list[str]], int, int]:
    """(b): requests the handler makes for one task change and the sequential round trips
    they take; items and bytes a scan of the job table (the design without a reverse
    index) would read instead."""
    from lambda_compiler.handler import lambda_handler, sync_for

    rows = synthetic_rows(jobs=jobs, tasks_per_job=20, schedulers=0)
    load(rows)
    sync_for.cache_clear()  # fresh clients: not a baseline run's
    sync = sync_for(settings)
    run_rebuild(settings, sync=sync)
    streams = Streams()
    put("mwaa_task", change_task(rows["mwaa_task"][7], 0))  # warm the container
    lambda_handler({"Records": streams.read()}, LambdaContext())
    put("mwaa_task", change_task(rows["mwaa_task"][7], 1))
    event = {"Records": streams.read()}
    clients = (sync.source._client, sync.publisher._client)
    with count_requests(*clients) as counts, timed_requests(*clients) as requests:
        lambda_handler(event, LambdaContext())
    items = [
        item
        for page in boto3.client("dynamodb").get_paginator("scan").paginate(TableName="mwaa_job")
        for item in page["Items"]
    ]
    return counts, round_trips(requests), len(items), len(json.dumps(items))


def rebuild_throughput(settings: Settings, jobs: int) -> dict[str, float]:
    """(c): DAGs per second for a first and a second (no-change) rebuild."""
    rows = synthetic_rows(jobs=jobs, tasks_per_job=20, schedulers=max(1, jobs // 10))
    started = time.perf_counter()
    load(rows)
    loaded = time.perf_counter() - started
    dags = jobs + max(1, jobs // 10)
    result: dict[str, float] = {"dags": dags, "load_s": loaded}
    for name in ("first", "second"):
        cpu, started = time.process_time(), time.perf_counter()
        report = run_rebuild(settings)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert report.ok and not report.invalid, report.failed
        result[f"{name}_s"] = elapsed
        result[f"{name}_cpu_s"] = cpu
        result[f"{name}_dags_per_s"] = dags / elapsed
        result[f"{name}_written"] = len(report.written)
    result["second_over_first"] = result["second_s"] / result["first_s"]
    result["second_over_first_cpu"] = result["second_cpu_s"] / result["first_cpu_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs in the tables for (b)")
    parser.add_argument("--rebuild-jobs", type=int, default=1000, help="jobs for (c)")
    parser.add_argument("--repeats", type=int, default=20, help="changes timed in (a)")
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        help="(a) also with botocore parsing the items, alternating, this many times",
    )
    parser.add_argument(
        "--freeze-pairs",
        type=int,
        default=0,
        help="(a) at 1 DAG as in Lambda (objects frozen after the warm-up) and not, "
        "alternating, this many times; means and medians",
    )
    args = parser.parse_args()
    with moto_process() as endpoint:
        settings = environment(endpoint)
        for _ in range(args.freeze_pairs):
            for in_lambda in (False, True):
                reset(endpoint)
                with as_in_lambda() if in_lambda else contextlib.nullcontext():
                    ratio = handler_vs_compile(settings, 1, args.repeats)
                print(
                    f"(a) [{'frozen after the warm-up' if in_lambda else 'collector as is'}] "
                    f"1 DAG, CPU per change: handler mean {ratio['handler_cpu_mean_ms']:.1f} ms "
                    f"(median {ratio['handler_cpu_ms']:.1f}), pure compile mean "
                    f"{ratio['compile_cpu_mean_ms']:.1f} ms (median {ratio['compile_cpu_ms']:.1f})"
                )
        runs = [(jobs, False) for jobs in (1, 10)]
        runs += [(jobs, b) for _ in range(args.pairs) for jobs in (1, 10) for b in (True, False)]
        for jobs, botocore_items in runs:
            reset(endpoint)
            ratio = handler_vs_compile(settings, jobs, args.repeats, botocore_items)
            parsing = "botocore parses items" if botocore_items else "items from the wire"
            print(
                f"(a) [{parsing}] one task listed by {jobs} 20-task job(s) changes: "
                f"per affected DAG, "
                f"handler {ratio['handler_ms']:.1f} ms, pure compile "
                f"{ratio['compile_ms']:.1f} ms, ratio {ratio['ratio']:.2f}; CPU: handler "
                f"process {ratio['handler_cpu_ms']:.1f} ms, pure compile "
                f"{ratio['compile_cpu_ms']:.1f} ms, ratio {ratio['cpu_ratio']:.2f} "
                f"(target <= 1.3), of which the {ratio['requests']:.0f} requests' own CPU "
                f"{ratio['request_cpu_ms']:.1f} ms ({ratio['request_share']:.2f} of the ratio)"
            )
        for jobs in (1, args.jobs):
            reset(endpoint)
            counts, trips, items, size = requests_per_change(settings, jobs)
            detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(
                f"(b) {jobs} job(s) in the tables: {sum(counts.values())} requests per "
                f"one-task change ({detail}) in {len(trips)} sequential round trips "
                f"(target <= 4: {' -> '.join(' + '.join(t) for t in trips)}); a job-table "
                f"scan instead would read {items} item(s), {size / 1024:.0f} KB"
            )
        reset(endpoint)
        rebuild = rebuild_throughput(settings, args.rebuild_jobs)
        print(
            f"(c) rebuild of {rebuild['dags']:.0f} DAGs ({args.rebuild_jobs} jobs x 20 tasks): "
            f"first {rebuild['first_s']:.1f} s ({rebuild['first_dags_per_s']:.1f} DAGs/s, "
            f"{rebuild['first_written']:.0f} written), second {rebuild['second_s']:.1f} s "
            f"({rebuild['second_dags_per_s']:.1f} DAGs/s, {rebuild['second_written']:.0f} "
            f"written); second / first {rebuild['second_over_first']:.2f} (target <= 0.2), "
            f"this process's CPU {rebuild['first_cpu_s']:.1f} s / "
            f"{rebuild['second_cpu_s']:.1f} s, ratio {rebuild['second_over_first_cpu']:.2f}; "
            f"loading the rows took {rebuild['load_s']:.1f} s"
        )


if __name__ == "__main__":
    main()
