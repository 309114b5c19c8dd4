"""Run by a target release's Python: fill a DagBag from a dags folder, write it as JSON.

    .venv-airflow/2.11.0/bin/python tests/airflow_matrix/dagbag_probe.py DAGS_FOLDER OUT.json

DAGS_FOLDER should be Airflow's configured dags folder (which Airflow puts on
`sys.path`). The JSON goes to a file because some releases log to stdout. Imports
nothing from the repository (the target venv has no dynadag), so the DAG files find
`dags_runtime` only where a deployment puts it: in the dags folder.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any


def _dagbag_class() -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.1+
    except ImportError:
        from airflow.models.dagbag import DagBag
    return DagBag


def _timetable(dag: Any) -> dict[str, Any]:
    timetable = dag.timetable
    timezone = getattr(timetable, "_timezone", None)
    return {
        "class": type(timetable).__name__,
        "cron": getattr(timetable, "_expression", None),
        "timezone": getattr(timezone, "name", None) if timezone is not None else None,
        "summary": str(getattr(timetable, "summary", "")),
    }


def _count(deadline: Any) -> int:
    """How many deadline alerts a DAG has (one object on 3.1, a list later; none on 2.x)."""
    if deadline is None:
        return 0
    return len(deadline) if isinstance(deadline, list | tuple) else 1


def _task(task: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operator": type(task).__name__,
        "upstream": sorted(task.upstream_task_ids),
    }
    if hasattr(task, "trigger_dag_id"):
        out.update(
            trigger_dag_id=task.trigger_dag_id,
            trigger_run_id=task.trigger_run_id,
            reset_dag_run=task.reset_dag_run,
            # The template the run's logical date comes from, whichever argument set it.
            logical_date=str(getattr(task, "logical_date", None)),
        )
    return out


def probe(folder: str) -> dict[str, Any]:
    """DAG ids, import errors and each DAG's structure, as the running release loads them."""
    import airflow

    if folder not in sys.path:  # as Airflow 3's DAG processor does with the bundle root
        sys.path.append(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = _dagbag_class()(dag_folder=folder)
    return {
        "airflow": airflow.__version__,
        "import_errors": {str(path): str(error) for path, error in bag.import_errors.items()},
        "warnings": sorted(
            {
                f"{w.category.__name__}: {w.message}"
                for w in caught
                if str(w.filename).startswith(folder)
            }
        ),
        "dags": {
            dag_id: {
                "file": dag.fileloc.rsplit("/", 1)[-1],
                "timetable": _timetable(dag),
                "task_groups": sorted(g for g in dag.task_group_dict if g),
                "deadlines": _count(getattr(dag, "deadline", None)),
                "tasks": {task.task_id: _task(task) for task in dag.tasks},
            }
            for dag_id, dag in bag.dags.items()
        },
    }


if __name__ == "__main__":
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(probe(sys.argv[1]), out, sort_keys=True)
