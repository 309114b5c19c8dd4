"""A deploy-time rebuild on Lambda, simulated second by second from measured figures.

`python -m bench.deploy_projection` prints, for each DAG count, `RebuildConcurrency` and
registry write throughput, how long the deploy's rebuild takes from the hook's start to the
answer CloudFormation gets, and what bounds it. The per-DAG figures come from
`bench.fanout_bench --part c` (one worker batch measured on this machine, moto in another
process); the AWS behaviour the model follows is documented, not measured here:

- the SQS event source starts 5 concurrent invocations and adds up to 300 per minute,
  never more than `MaximumConcurrency` (AWS Lambda developer guide, "Configuring scaling
  behavior for SQS event source mappings");
- a new on-demand table serves 4,000 writes per second until it has scaled (pre-warming
  raises that: `RegistryWarmWriteUnits`), and a write that exceeds it is throttled and
  retried, so the registry's write rate caps the DAGs built per second;
- a worker's batch costs its CPU (one full vCPU at 1,769 MB) plus its sequential round trips
  at `--request-ms` each, counted without overlap (an upper bound).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass

INITIAL_POLLERS = 5
POLLERS_PER_MINUTE = 300
NEW_TABLE_WRITES = 4_000
CFN_SERVICE_TIMEOUT_S = 3_600
"""The custom resource's `ServiceTimeout` (the most CloudFormation allows)."""
WATCHDOG_S = 55 * 60
"""`DYNADAG_REBUILD_DEADLINE_SECONDS`: the watchdog answers FAILED after this."""


@dataclass(frozen=True)
class Figures:
    """What one worker batch costs (measured) and what the deploy adds around it (assumed)."""

    cpu_ms_per_dag: float = 57.8
    trips_per_batch: float = 54.5
    items_per_dag: float = 23.0
    batch_rows: int = 50
    request_ms: float = 10.0
    cold_start_s: float = 2.0
    enumerate_dags_per_s: float = 5_000.0
    enqueue_messages_per_s: float = 500.0


@dataclass(frozen=True)
class Projection:
    """One simulated deploy: seconds from the hook's start to CloudFormation's answer."""

    dags: int
    concurrency: int
    write_units: int
    prepare_s: float
    build_s: float
    bound: str
    peak_writes_per_s: float

    @property
    def total_s(self) -> float:
        return self.prepare_s + self.build_s

    @property
    def within_limits(self) -> bool:
        return self.total_s < min(CFN_SERVICE_TIMEOUT_S, WATCHDOG_S)


def batch_seconds(figures: Figures) -> float:
    """One warm worker's time for one batch."""
    cpu = figures.batch_rows * figures.cpu_ms_per_dag / 1000
    return cpu + figures.trips_per_batch * figures.request_ms / 1000


def simulate(
    dags: int, concurrency: int, write_units: int, figures: Figures, step_s: float = 0.1
) -> Projection:
    """Simulate the build phase in `step_s` steps: the SQS poller adds workers, each builds
    at its batch rate once its cold start is over, and the registry's write rate caps the
    DAGs finished per second. The last batch adds one batch time (an upper bound)."""
    batches = math.ceil(dags / figures.batch_rows)
    prepare = dags / figures.enumerate_dags_per_s + batches / figures.enqueue_messages_per_s
    per_worker = figures.batch_rows / batch_seconds(figures)  # DAGs/s of one warm worker
    write_cap = write_units / figures.items_per_dag  # DAGs/s the registry accepts
    done, elapsed, peak = 0.0, 0.0, 0.0
    steps = {"registry writes": 0, "ramp-up of the SQS poller": 0, "workers": 0}
    while done < dags:
        since = elapsed - figures.cold_start_s
        warm = (
            min(concurrency, INITIAL_POLLERS + POLLERS_PER_MINUTE * since / 60) if since >= 0 else 0
        )
        rate = warm * per_worker
        if rate > write_cap:
            rate = write_cap
            steps["registry writes"] += 1
        elif warm < concurrency:
            steps["ramp-up of the SQS poller"] += 1
        else:
            steps["workers"] += 1
        peak = max(peak, rate * figures.items_per_dag)
        done += rate * step_s
        elapsed += step_s
    bound = max(steps, key=lambda name: steps[name])
    build = elapsed + batch_seconds(figures)
    return Projection(dags, concurrency, write_units, prepare, build, bound, peak)


def table(rows: list[Projection]) -> str:
    """The projections as a Markdown table."""
    lines = [
        "| DAGs | RebuildConcurrency | registry writes/s | enumerate + enqueue | build | "
        "total | bound by | peak items written/s | within CloudFormation's limits |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in rows:
        lines.append(
            f"| {p.dags:,} | {p.concurrency} | {p.write_units:,} | {p.prepare_s:.0f} s | "
            f"{p.build_s:.0f} s | **{p.total_s / 60:.1f} min** | {p.bound} | "
            f"{p.peak_writes_per_s:,.0f} | {'yes' if p.within_limits else 'NO'} |"
        )
    return "\n".join(lines)


_MAY_BE_ZERO = {"trips_per_batch", "request_ms", "cold_start_s"}
MOST = 10_000_000
"""The largest value a flag takes (the simulation steps through every 0.1 s)."""


def _number(kind: type, name: str) -> Callable[[str], float]:
    """An argparse type: a `kind` number, positive (or zero for `_MAY_BE_ZERO`)."""
    least = 0 if name in _MAY_BE_ZERO else 1e-9

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or value > MOST:
            raise argparse.ArgumentTypeError(f"must be a finite number up to {MOST:,}: {text}")
        if value < least:
            raise argparse.ArgumentTypeError(f"must be {'≥ 0' if least == 0 else '> 0'}: {text}")
        return value

    return parse


def _counts(text: str) -> list[int]:
    """An argparse type: comma-separated positive integers."""
    parse = _number(int, "count")
    return [int(parse(part)) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dags", type=_counts, default="10000,50000", help="DAG counts, a,b")
    parser.add_argument("--concurrency", type=_counts, default="20,100,200", help="a,b")
    parser.add_argument("--write-units", type=_counts, default="4000,12000", help="writes/s a,b")
    defaults = Figures()
    for name, value in vars(defaults).items():
        flag = "--" + name.replace("_", "-")
        kind = _number(type(value), name)
        parser.add_argument(flag, type=kind, default=value, help=f"default {value}")
    args = parser.parse_args()
    figures = Figures(**{name: getattr(args, name) for name in vars(defaults)})
    print(f"figures: {figures}; one warm batch {batch_seconds(figures):.2f} s")
    rows = [
        simulate(d, c, w, figures)
        for d in args.dags
        for w in args.write_units
        for c in args.concurrency
    ]
    print(table(rows))


if __name__ == "__main__":
    main()
