"""What the runtime wiring costs when Airflow parses a job DAG file.

Every task start parses its DAG file again in a fresh process, so the file's cold
parse time matters. This compiles a 20-task job DAG twice from the same rows:
plainly (the baseline: alerts and history wiring stripped from the source) and as
generated (``DagCallbacks`` import, callbacks in ``default_args``, ``doc_md``).
Each variant is executed in fresh interpreters, after ``import airflow.sdk`` and
the operator import both variants share, and the median is reported with the ratio.

Run: ``.venv/bin/python -m bench.runtime_parse_bench --runs 15``
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from lambda_compiler.compiler import compile_dags
from lambda_compiler.snapshot import snapshot_from_json

_TIMER = """
import time, sys
import airflow.sdk
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
source = open(sys.argv[1]).read()
start = time.process_time()
exec(compile(source, sys.argv[1], "exec"), {"__name__": "dag_file"})
print(time.process_time() - start)
"""


def generated_source(tasks: int = 20) -> str:
    """A job DAG of `tasks` SQL tasks in a chain, with alerts, as dynadag writes it."""
    rows = {
        "mwaa_task": [
            {"task_id": str(i), "task_name": f"step_{i}", "task_type": "SQL", "status": 1,
             "task_params": {"conn_id": "redshift_default", "sql": f"INSERT INTO t{i} SELECT 1;"}}
            for i in range(tasks)
        ],
        "mwaa_job": [
            {"job_type": "bench", "job_id": "1", "job_name": "bench", "status": 1,
             "task_list": ",".join(str(i) for i in range(tasks)),
             "job_task_dependencies": [{"task_id": str(i), "pid": str(i - 1)}
                                       for i in range(1, tasks)],
             "job_params": {"retries": 1, "alerts": {"on_retry": True}}},
        ],
    }  # fmt: skip
    return compile_dags(snapshot_from_json(rows)).dags["job-bench"].source or ""


def strip_runtime(source: str) -> str:
    """The same file without the runtime: no DagCallbacks, callbacks or doc_md."""
    source = source.replace("from dags_runtime.callbacks import DagCallbacks\n", "")
    source = re.sub(r"\ncallbacks = DagCallbacks\(\n.*?\n\)\n", "\n", source, flags=re.S)
    source = re.sub(r'    doc_md=""".*?""",\n', "", source, flags=re.S)
    source = re.sub(r'        "on_\w+_callback": callbacks\.on_\w+,\n', "", source)
    source = source.replace("    on_failure_callback=callbacks.on_dag_failure,\n", "")
    if "callbacks" in source:
        raise RuntimeError("the baseline still refers to the runtime")
    return source


def cold_seconds(paths: list[Path], runs: int) -> list[float]:
    """Median CPU seconds to execute each file in a fresh interpreter (Airflow imported first).

    The files take turns, first one then the other leading, so that changes in machine
    load and caches affect them alike.
    """
    times: list[list[float]] = [[] for _ in paths]
    order = list(enumerate(paths))
    for _ in range(runs):
        order.reverse()
        for index, path in order:
            out = subprocess.run(
                [sys.executable, "-c", _TIMER, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            times[index].append(float(out.stdout.strip().splitlines()[-1]))
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    generated = generated_source()
    with tempfile.TemporaryDirectory() as folder:
        plain_path, wired_path = Path(folder, "plain.py"), Path(folder, "wired.py")
        plain_path.write_text(strip_runtime(generated))
        wired_path.write_text(generated)
        plain, wired = cold_seconds([plain_path, wired_path], args.runs)
    print(f"file sizes: plain {len(strip_runtime(generated))} B, with runtime {len(generated)} B")
    print(f"cold parse, baseline (no runtime wiring): {plain * 1000:.1f} ms")
    print(f"cold parse, as generated:               {wired * 1000:.1f} ms")
    print(f"ratio: {wired / plain:.2f}  (+{(wired - plain) * 1000:.1f} ms per parse)")


if __name__ == "__main__":
    main()
