"""Load generated DAG files into a real Airflow DagBag."""

from __future__ import annotations

from pathlib import Path

from lambda_compiler.compiler import CompileResult


def write_dags(result: CompileResult, folder: Path) -> list[Path]:
    """Write every valid DAG of `result` into `folder` as ``{dag_id}.py``."""
    paths = []
    for dag_id, dag in result.dags.items():
        if dag.source is not None:
            path = folder / f"{dag_id}.py"
            path.write_text(dag.source, encoding="utf-8")
            paths.append(path)
    return paths


def load_dagbag(path: Path):  # type: ignore[no-untyped-def]
    """A DagBag of one file or folder; fails the test on any import error."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path), safe_mode=False)
    assert bag.import_errors == {}, bag.import_errors
    return bag
