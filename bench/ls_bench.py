"""`dynadag ls` and `dynadag history` at scale: reading every S3 version vs the registry.

    .venv/bin/python -m bench.ls_bench [--files 1000] [--versions 20] [--history-versions 100]

Against a moto server in its own process (its CPU is not counted), with the tables and
bucket of `template.yaml`: `--files` DAG files with `--versions` versions each, each
recorded in the registry as a build would. Times, in this process, wall and CPU of:

- `ls` the old way: every version of every file under the prefix (ListObjectVersions,
  the 0.2.0 code path kept here as the baseline), grouped per file;
- `ls` now: the registry's DAG records plus one ListObjectsV2 listing of current objects
  (`dynadag ls --format json`);
- `history` of one file with `--history-versions` versions: `--all` (what it did before:
  every version's metadata) vs the default `--limit 20`.

Prints the figures and the old/new ratios as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from typer.testing import CliRunner

from bench.handler_bench import environment, moto_process, reset
from lambda_compiler.cli import app
from lambda_compiler.model import DagId
from lambda_compiler.registry import OutcomeRecord, Registry
from lambda_compiler.settings import Settings
from tests.integration.aws_fixtures import count_requests

HISTORY_DAG = "job-often_changed"


def populate(settings: Settings, files: int, versions: int, history_versions: int) -> None:
    """`files` DAG files x `versions` versions, each with a registry record, plus one file
    with `history_versions` versions (8 threads: moto serves requests concurrently)."""
    s3 = boto3.client("s3")
    registry = Registry(boto3.client("dynamodb"), settings.registry_table)

    def write(dag_id: str, count: int) -> None:
        key = f"{settings.dags_prefix}{dag_id}.py"
        for n in range(count):
            body = f"# {dag_id} version {n}\n".encode() * 60
            put = s3.put_object(
                Bucket=settings.bucket, Key=key, Body=body, Metadata={"sha256": f"{n:064x}"}
            )
        registry.record_outcome(
            OutcomeRecord(
                dag_id=DagId(dag_id),
                outcome="written",
                kind="job",
                s3_key=key,
                version_id=put["VersionId"],
                sha256=f"{count - 1:064x}",
            )
        )

    jobs = [(f"job-bench_{i:05d}", versions) for i in range(files)]
    jobs.append((HISTORY_DAG, history_versions))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda job: write(*job), jobs))


def old_ls(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """The 0.2.0 `ls`: every version and delete marker under the prefix, per file."""
    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    markers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []):
            versions[entry["Key"]].append(entry)
        for entry in page.get("DeleteMarkers", []):
            markers[entry["Key"]].append(entry)
    entries = []
    for key in sorted(set(versions) | set(markers)):
        merged = sorted(
            versions[key] + [{**m, "Size": None, "deleted": True} for m in markers[key]],
            key=lambda e: (e["LastModified"], e["IsLatest"]),
        )
        latest = merged[-1]
        entries.append(
            {
                "file": key[len(prefix) :],
                "versions": len(versions[key]),
                "size": latest["Size"],
                "last_change": latest["LastModified"].isoformat(),
                "state": "deleted" if latest.get("deleted") else "current",
            }
        )
    return entries


def timed(run: Callable[[], Any], fixed: tuple[Any, ...] = ()) -> dict[str, Any]:
    """Wall and CPU seconds of `run`, and the requests made by the clients `fixed` and
    by those the CLI creates meanwhile."""
    from lambda_compiler.cli.aws import Aws

    counters: list[Counter[str]] = []
    original = Aws.client
    with contextlib.ExitStack() as stack:

        def counted(aws: Aws, service: str) -> Any:
            client = original(aws, service)
            counters.append(stack.enter_context(count_requests(client)))
            return client

        counters += [stack.enter_context(count_requests(c)) for c in fixed]
        Aws.client = counted  # type: ignore[method-assign]
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            result = run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            Aws.client = original  # type: ignore[method-assign]
    requests = dict(sum(counters, Counter()))
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "requests": requests, "out": result}


def cli(*args: str) -> Callable[[], Any]:
    def run() -> Any:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--history-versions", type=int, default=100)
    args = parser.parse_args()
    with moto_process() as endpoint:
        settings = environment(endpoint)
        reset(endpoint)
        started = time.perf_counter()
        populate(settings, args.files, args.versions, args.history_versions)
        setup = time.perf_counter() - started
        s3 = boto3.client("s3")
        old = timed(lambda: old_ls(s3, settings.bucket, settings.dags_prefix), (s3,))
        new = timed(cli("ls", "--format", "json"))
        assert len(json.loads(new["out"])) == len(old["out"]) == args.files + 1
        history_all = timed(cli("history", HISTORY_DAG, "--all", "--format", "json"))
        history_20 = timed(cli("history", HISTORY_DAG, "--format", "json"))
        for figures in (old, new, history_all, history_20):
            del figures["out"]
        report = {
            "files": args.files,
            "versions_per_file": args.versions,
            "setup_s": round(setup, 1),
            "ls_old_all_versions": old,
            "ls_new_registry": new,
            "ls_wall_ratio_old_over_new": round(old["wall_s"] / new["wall_s"], 1),
            "ls_cpu_ratio_old_over_new": round(old["cpu_s"] / new["cpu_s"], 1),
            "history_versions": args.history_versions,
            "history_all": history_all,
            "history_limit_20": history_20,
            "history_wall_ratio_all_over_limit": round(
                history_all["wall_s"] / history_20["wall_s"], 1
            ),
        }
        print(json.dumps(report, indent=2), flush=True)
        # empty the server, so it stops within moto_process's 10 s
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))


if __name__ == "__main__":
    main()
