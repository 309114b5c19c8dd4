"""The dag processor benchmark's folders: a larger folder repeats the compiled DAGs under new,
consistent ids, so every DAG parses and every scheduler triggers a job of its own copy."""

from __future__ import annotations

import re
from pathlib import Path

from bench.dag_processor_bench import (
    Postgres,
    PostgresDb,
    SqliteDb,
    airflow_env,
    compile_folders,
    per_day,
    processor_command,
)


def test_folders_of_each_size_hold_distinct_dags_whose_triggers_resolve(tmp_path: Path) -> None:
    folders = compile_folders("3.3.2", [11, 22, 30], 22, tmp_path)
    for size, folder in folders.items():
        files = {p.stem for p in folder.glob("*.py")}
        assert len(files) == size
        assert (folder / "dags_runtime" / "callbacks.py").is_file()
        assert "dags_runtime/" in (folder / ".airflowignore").read_text()
        for name in files:
            source = (folder / f"{name}.py").read_text()
            assert f'dag_id="{name}"' in source
            for target in re.findall(r'trigger_dag_id="([^"]+)"', source):
                assert target in files, f"{name} triggers {target}, not in the {size} folder"
    copies = {p.stem for p in folders[30].glob("*_c1_*.py")}
    assert copies == {f"job-pipeline_c1_{j:04d}" for j in range(8)}


def test_a_pass_longer_than_the_interval_runs_back_to_back() -> None:
    # 2 parsing processes: 100 CPU-s take 50 s, so a 30 s interval cannot be kept
    assert per_day(100, 30) == per_day(100, 50) == 100 * 86400 / 50 / 3600
    assert per_day(100, 600) == 100 * 144 / 3600


def test_airflow_2_on_postgres_runs_the_standalone_processor_with_the_settings(
    tmp_path: Path,
) -> None:
    cluster = Postgres("postgres")
    cluster.port = 5499
    db = PostgresDb(cluster, "home_2_11_0_1000")
    env = airflow_env("2.11.0", tmp_path, tmp_path / "dags", db)
    assert processor_command("2.11.0", db) == "dag-processor"
    assert env["AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR"] == "True"
    assert env["AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL"] == "600"
    assert env["AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL"] == "60"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg2://postgres@127.0.0.1:5499/home_2_11_0_1000"
    )
    # on SQLite, Airflow 2 refuses a standalone processor: its scheduler runs the manager
    sqlite = SqliteDb(tmp_path / "airflow.db")
    assert processor_command("2.11.0", sqlite) == "scheduler"
    assert "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR" not in airflow_env(
        "2.11.0", tmp_path, tmp_path / "dags", sqlite
    )
    assert processor_command("3.3.2", sqlite) == "dag-processor"
