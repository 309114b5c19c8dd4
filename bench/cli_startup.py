"""Start-up time of the `dynadag` command: `--help`, `status --help`, `--version`.

Each command runs N times as a fresh process (as a shell runs it); the median wall time is
compared with `python -c pass`, the floor any Python command pays.

    PYTHONPATH=$PWD .venv/bin/python -m bench.cli_startup --runs 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from lambda_compiler.local.process import DYNADAG

TARGET_SECONDS = 0.5
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "dynadag --help": [DYNADAG, "--help"],
    "dynadag status --help": [DYNADAG, "status", "--help"],
    "dynadag --version": [DYNADAG, "--version"],
}


def median_seconds(argv: list[str], runs: int) -> float:
    """The median wall time of `runs` fresh runs of `argv` (its exit code does not matter)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    floor = median_seconds(COMMANDS["python -c pass"], runs)
    print(f"{'command':<24} {'median':>8} {'/ python':>9}")
    for name, argv in COMMANDS.items():
        seconds = median_seconds(argv, runs)
        verdict = "" if name.startswith("python") or seconds < TARGET_SECONDS else "  over 0.5 s"
        print(f"{name:<24} {seconds:>7.3f}s {seconds / floor:>8.1f}x{verdict}")


if __name__ == "__main__":
    main()
