"""Run by a target release's Python: Airflow's verdict on each schedule, as JSON.

``python schedule_probe.py IN.json OUT.json``: IN holds a list of expressions; OUT maps
each to None (accepted by the release's timetable validation) or Airflow's reason.
"""

import json
import sys

from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.interval import CronDataIntervalTimetable


def verdict(expression: str) -> str | None:
    try:
        CronDataIntervalTimetable(expression, "UTC").validate()
    except AirflowTimetableInvalid as exc:
        return str(exc)
    return None


with open(sys.argv[1], encoding="utf-8") as source:
    expressions = json.load(source)
with open(sys.argv[2], "w", encoding="utf-8") as target:
    json.dump({expression: verdict(expression) for expression in expressions}, target)
