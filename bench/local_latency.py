"""Latency of the local stack: from a `PutItem` to the new S3 version of the DAG file.

Starts `dynadag local --seed examples/` as a user does (a separate process: moto, the
stream worker, the real handler), then changes one task row N times and measures, from
this process, how long each change takes to become a new version of the job's file in
the bucket. Baseline, in the same run: `compile_dags` of that job's rows in this
process (parse, validate, render, black), the part of the work no pipeline can avoid.

    .venv/bin/python -m bench.local_latency --runs 30
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lambda_compiler.compiler import compile_dags
from lambda_compiler.demo import DEMO_DAG, DEMO_TASK, EXAMPLES, dag_files
from lambda_compiler.demo import expected_dags as example_dags
from lambda_compiler.local.process import LocalProcess
from lambda_compiler.rows_file import load_snapshot

TARGET_SECONDS = 1.0
SQL = "INSERT OR REPLACE INTO daily_orders (day, orders) VALUES ('{{{{ ds }}}}', {n});"


def _versions(s3: Any, bucket: str, key: str) -> int:
    return len(s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []))


def measure_latency(stack: LocalProcess, runs: int) -> list[float]:
    """Seconds from each `UpdateItem` of the demo task to its job's new S3 version."""
    s3, dynamodb = stack.client("s3"), stack.client("dynamodb")
    bucket, key = stack.env["DYNADAG_BUCKET"], f"dags/{DEMO_DAG}.py"
    latencies = []
    for n in range(runs):
        before = _versions(s3, bucket, key)
        started = time.perf_counter()
        dynamodb.update_item(
            TableName="mwaa_task",
            Key={"task_id": {"S": DEMO_TASK}},
            UpdateExpression="SET task_params = :p",
            ExpressionAttributeValues={":p": {"S": json.dumps({"sql": SQL.format(n=1000 + n)})}},
        )
        while _versions(s3, bucket, key) == before:
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"change {n} did not reach S3 within 30 s")
            time.sleep(0.005)
        latencies.append(time.perf_counter() - started)
    return latencies


def measure_compile(runs: int) -> list[float]:
    """Seconds for `compile_dags` of the demo job's rows, in this process."""
    snapshot = load_snapshot(EXAMPLES / "sqlite_demo.json")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = compile_dags(snapshot)
        timings.append(time.perf_counter() - started)
        assert result.dags[DEMO_DAG].ok
    return timings


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = LocalProcess(Path(tmp) / ".dynadag", seed=EXAMPLES)
        try:
            s3 = stack.client("s3")
            expected = example_dags(EXAMPLES)
            while not expected <= dag_files(s3, stack.env["DYNADAG_BUCKET"], "dags/"):
                time.sleep(0.1)
            time.sleep(1.0)  # let the seeding batches finish
            latencies = measure_latency(stack, args.runs)
        finally:
            stack.stop()
    compiles = measure_compile(args.runs)
    p50, compile_p50 = statistics.median(latencies), statistics.median(compiles)
    print(f"PutItem → new S3 version of {DEMO_DAG}.py, {args.runs} changes:")
    p95, worst = _quantile(latencies, 0.95), max(latencies)
    print(
        f"  p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {worst * 1000:.0f} ms"
        f" (target < {TARGET_SECONDS * 1000:.0f} ms)"
    )
    print(f"baseline compile_dags of the same rows: p50 {compile_p50 * 1000:.1f} ms")
    print(f"ratio latency / compile (p50): {p50 / compile_p50:.1f}")
    print("within target" if worst < TARGET_SECONDS else "TARGET MISSED")


if __name__ == "__main__":
    main()
