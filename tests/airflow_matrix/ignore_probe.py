"""Run by a target release's Python: the files Airflow would parse in a dags folder, as JSON.

    .venv-airflow/2.11.0/bin/python tests/airflow_matrix/ignore_probe.py DAGS_FOLDER OUT.json

Uses the release's own `list_py_file_paths` (which reads every ``.airflowignore`` in the
folder with the syntax ``AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX`` selects) without the
DAG-discovery heuristic, so every ``.py`` file not ignored is listed. What Airflow logs
(e.g. "Ignoring invalid regex") goes to stderr, where the caller reads it.
"""

from __future__ import annotations

import json
import os
import sys


def main(dags: str, out: str) -> None:
    from airflow.utils.file import list_py_file_paths

    listed = [os.path.relpath(path, dags) for path in list_py_file_paths(dags, safe_mode=False)]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(sorted(listed), f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
