"""Same rows → byte-identical files, in this process and in another with another hash seed."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from lambda_compiler.compiler import compile_dags
from lambda_compiler.rows_file import load_snapshot
from lambda_compiler.snapshot import snapshot_from_json
from tests.conftest import EXAMPLE_ROWS, REPO_ROOT

_PRINT_SOURCES = (
    "import json, sys\n"
    "from lambda_compiler.compiler import compile_dags\n"
    "from lambda_compiler.rows_file import load_snapshot\n"
    "result = compile_dags(load_snapshot(sys.argv[1]))\n"
    "print(json.dumps({k: v.source for k, v in result.dags.items()}))\n"
)


def _sources(snapshot):
    return {dag_id: dag.source for dag_id, dag in compile_dags(snapshot).dags.items()}


def test_compiling_twice_gives_identical_bytes():
    assert _sources(load_snapshot(EXAMPLE_ROWS)) == _sources(load_snapshot(EXAMPLE_ROWS))


def test_row_and_attribute_order_do_not_matter():
    data = json.loads(EXAMPLE_ROWS.read_text())
    shuffled = {}
    rng = random.Random(7)
    for table, rows in data.items():
        rows = [dict(rng.sample(list(row.items()), len(row))) for row in rows]
        rng.shuffle(rows)
        shuffled[table] = rows
    assert _sources(snapshot_from_json(shuffled)) == _sources(load_snapshot(EXAMPLE_ROWS))


def test_another_process_with_another_hash_seed_gives_identical_bytes():
    expected = _sources(load_snapshot(EXAMPLE_ROWS))
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", _PRINT_SOURCES, str(EXAMPLE_ROWS)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert json.loads(out) == expected


def test_header_names_source_rows_and_inputs_hash():
    result = compile_dags(load_snapshot(EXAMPLE_ROWS))
    source = result.dags["job-customer_sync"].source
    header = source.split('"', 1)[0]
    assert "DO NOT EDIT" in header
    assert "#   mwaa_job[job_type='etl', job_id='2']" in header
    assert "#   mwaa_task[task_id='6']" in header and "#   mwaa_task[task_id='7']" in header
    assert "# Inputs sha256: " in header


def test_datetime_is_imported_only_when_a_duration_is_written():
    from tests.rowkit import compile_rows, job, task

    sql = {"conn_id": "redshift_default", "sql": "SELECT 'datetime.timedelta(seconds=1)';"}
    plain = compile_rows([task("1", task_params=sql)], [job("1", "1", name="plain")])
    timed = compile_rows([task("1")], [job("1", "1", name="timed", job_params={"retry_delay": 60})])
    assert "import datetime\n" not in plain.dags["job-plain"].source
    assert "import datetime\n" in timed.dags["job-timed"].source
