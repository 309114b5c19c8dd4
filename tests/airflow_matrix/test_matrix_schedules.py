"""On each release, dynadag accepts exactly the schedules that release's Airflow accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_compiler.schedules import ScheduleError, normalize_schedule
from tests.airflow.test_schedule_verdicts import CORPUS, NEVER_FIRES

pytestmark = [pytest.mark.airflow_matrix]
PROBE = Path(__file__).with_name("schedule_probe.py")


def _dynadag_verdict(expression: str, nearest_weekday: bool) -> str | None:
    try:
        normalize_schedule(expression, nearest_weekday=nearest_weekday)
    except ScheduleError as exc:
        return str(exc)
    return None


def test_every_schedule_gets_the_release_s_own_verdict(target_airflow, tmp_path) -> None:
    corpus = [expression for expression in CORPUS if expression not in NEVER_FIRES]
    given, verdicts = tmp_path / "corpus.json", tmp_path / "verdicts.json"
    given.write_text(json.dumps(corpus))
    target_airflow.python(str(PROBE), str(given), str(verdicts))
    airflow = json.loads(verdicts.read_text())
    weekday = target_airflow.release.target.cron_nearest_weekday
    for expression in corpus:
        dynadag = _dynadag_verdict(expression, weekday)
        assert (dynadag is None) == (airflow[expression] is None), (expression, airflow, dynadag)
