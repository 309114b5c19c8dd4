"""Synthetic row sets of a given size, in the original's string-JSON schema."""

from __future__ import annotations

import json
from typing import Any


def synthetic_rows(
    jobs: int, tasks_per_job: int, schedulers: int
) -> dict[str, list[dict[str, Any]]]:
    """`jobs` jobs of `tasks_per_job` SQL tasks (a chain with a fan-out), and schedulers
    that each trigger ten jobs in a chain."""
    task_rows, job_rows, scheduler_rows = [], [], []
    for j in range(jobs):
        ids = [str(j * tasks_per_job + t) for t in range(tasks_per_job)]
        for t, task_id in enumerate(ids):
            task_rows.append(
                {
                    "task_id": task_id,
                    "task_name": f"step_{t:02d}",
                    "task_type": "REDSHIFT-SQL",
                    "task_params": json.dumps(
                        {
                            "sql": f"INSERT INTO mart.t{j}_{t} SELECT * FROM staging.t{j}_{t} "
                            "WHERE day = '{{ ds }}';"
                        }
                    ),
                    "status": 1,
                }
            )
        deps = [
            {"task_id": ids[t], "pid": ids[t - 1 if t % 5 else max(t - 5, 0)]}
            for t in range(1, len(ids))
        ]
        job_rows.append(
            {
                "job_type": "etl",
                "job_id": str(j),
                "job_name": f"pipeline_{j:04d}",
                "task_list": ",".join(ids),
                "job_task_dependencies": json.dumps(deps),
                "job_params": json.dumps({"retries": 2, "retry_delay": 300}),
                "status": 1,
            }
        )
    for s in range(schedulers):
        listed = [str((s * 10 + k) % jobs) for k in range(min(10, jobs))]
        deps = [{"job_id": listed[k], "pid": listed[k - 1]} for k in range(1, len(listed))]
        scheduler_rows.append(
            {
                "schedule_id": str(s),
                "schedule_name": f"schedule_{s:03d}",
                "job_list": ",".join(listed),
                "schedule_job_dependencies": json.dumps(deps),
                "schedule_params": json.dumps({"schedule_interval": f"{s % 60} 2 * * *"}),
                "status": 1,
            }
        )
    return {"mwaa_task": task_rows, "mwaa_job": job_rows, "mwaa_scheduler": scheduler_rows}
