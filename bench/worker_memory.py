"""Is a fan-out worker's memory flat in the number of batches it builds? (issue 12)

    PYTHONPATH=$PWD .venv/bin/python -m bench.worker_memory [--jobs 2500]

`--jobs` 20-task jobs plus one scheduler per ten jobs (each listing ten jobs) in a moto
server of its own process; one rebuild's work items (`fanout.prepare_rebuild`, `Fanout.plan`)
built one after another by one worker in this process (`fanout_worker.build_item_here`, as a
Lambda container reused for batch after batch does), into a fresh registry table. After each
batch: a full garbage collection, then this process's RSS, its peak RSS so far and its number
of tracked objects.

Prints the series, then the growth per batch over the second half of the job batches and
over the scheduler batches, and the last RSS ÷ the RSS after the warm-up (the fourth batch),
all measured in this run.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os

import psutil

from bench.fanout_bench import fresh_target
from bench.handler_bench import environment, load, moto_process, reset
from bench.peak_rss import peak_rss_kb
from bench.synthetic import synthetic_rows
from lambda_compiler.fanout import Fanout, Runs, prepare_rebuild
from lambda_compiler.fanout_worker import build_item_here, build_worker
from lambda_compiler.sync import build_sync

WARM_UP = 3  # batches after which the process has imported and cached what it needs


def measure(jobs: int) -> list[tuple[bool, int, int]]:
    """(scheduler batch?, RSS in KB, tracked objects) after each batch of one rebuild."""
    series = []
    with moto_process() as endpoint:
        environment(endpoint)
        reset(endpoint)
        load(synthetic_rows(jobs=jobs, tasks_per_job=20, schedulers=max(1, jobs // 10)))
        settings = fresh_target("memory")
        sync = build_sync(settings)
        work, _ = prepare_rebuild(sync)
        fanout = Fanout(None, Runs(sync.source.client, settings.registry_table), 50)
        run, items = fanout.plan(work, "rebuild")
        fanout.runs.start(run)
        worker = build_worker(settings)
        for item in items:
            owners = json.loads(item.body())["owners"]
            build_item_here(item.body(), worker)
            gc.collect()
            rss = psutil.Process().memory_info().rss // 1024
            peak = peak_rss_kb()
            schedulers = any("scheduler" in o for o in owners)
            series.append((schedulers, rss, len(gc.get_objects())))
            kind = "schedulers" if schedulers else "jobs"
            print(
                f"batch {len(series) - 1:3d} ({len(owners)} {kind}): "
                f"RSS {rss / 1024:.1f} MB (peak so far {peak / 1024:.1f} MB), "
                f"{series[-1][2]:,} objects",
                flush=True,
            )
    return series


def per_batch(points: list[int]) -> float:
    """Growth per batch from the first to the last of `points` (0 for fewer than two)."""
    return (points[-1] - points[0]) / (len(points) - 1) if len(points) > 1 else 0.0


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=positive, default=2500, help="20-task jobs in the tables")
    args = parser.parse_args()
    os.environ.setdefault("DYNADAG_S3_WRITES_PER_SECOND", "0")
    # The compiler's Powertools logger was made at import, at INFO unless told otherwise.
    logging.getLogger("dynadag").setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"))
    series = measure(args.jobs)
    jobs = [(rss, objects) for scheduler, rss, objects in series if not scheduler]
    schedulers = [rss for scheduler, rss, _ in series if scheduler]
    half = jobs[len(jobs) // 2 :]
    warm = series[min(WARM_UP, len(series) - 1)][1]
    print(
        f"job batches {len(jobs)}: second half {per_batch([r for r, _ in half]):+.0f} KB/batch, "
        f"{per_batch([o for _, o in half]):+.0f} objects/batch; "
        f"scheduler batches {len(schedulers)}: {per_batch(schedulers):+.0f} KB/batch, "
        f"first one {((schedulers or [0])[0] - jobs[-1][0]) / 1024:+.1f} MB; "
        f"last RSS / RSS after warm-up {series[-1][1] / warm:.2f}"
    )


if __name__ == "__main__":
    main()
