"""dynadag accepts exactly the schedules Airflow's own timetables accept, with Airflow's reason."""

from __future__ import annotations

import pytest

from lambda_compiler.schedules import NON_CRON_SCHEDULES, ScheduleError, normalize_schedule

pytestmark = pytest.mark.airflow

# Migrated schedules the old hand-written check refused although Airflow runs them.
ACCEPTED_BY_AIRFLOW = [
    "0 12 L * *",
    "0 0 * * 1#2",
    "0 0 ? * MON",
    "0 0 15W * *",
    "@annually",
    "@midnight",
]
CORPUS = [
    *ACCEPTED_BY_AIRFLOW,
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
    "0 12 * * *",
    "*/15 9-17 * * MON-FRI",
    "0 0 1 * * *",
    "0 0 31 2 *",
    "0 0 30 2 *",
    "0 0 * * MON-SUN",
    "5-1 * * * *",
    "61 * * * *",
    "0 24 * * *",
    "0 0 0 * *",
    "0 0 * 13 *",
    "0 0 * * 8",
    "* * *",
    "0 0 12",
    "*/0 * * * *",
    "@sometimes",
    "@reboot",
    "0 0 1 * * 2024",
    "0 0 1 1 * 2024 5",
    "H * * * *",
    "0 0 * * MON#6",
    "0 0 L-3 * *",
    "a b c d e",
    "0 0 1-31/0 * *",
    "0,,5 * * * *",
]


def _airflow_verdict(expression: str) -> str | None:
    """None when Airflow's data-interval timetable accepts `expression`, else its reason."""
    from airflow.exceptions import AirflowTimetableInvalid
    from airflow.timetables.interval import CronDataIntervalTimetable

    try:
        CronDataIntervalTimetable(expression, "UTC").validate()
    except AirflowTimetableInvalid as exc:
        return str(exc)
    return None


def _dynadag_verdict(expression: str) -> str | None:
    try:
        normalize_schedule(expression)
    except ScheduleError as exc:
        return str(exc)
    return None


# Airflow's validation accepts it, its scheduler then fails: dynadag says so before.
NEVER_FIRES = {"0 0 31 2 *", "0 0 30 2 *"}


@pytest.mark.parametrize("expression", [e for e in CORPUS if e not in NEVER_FIRES])
def test_a_schedule_is_accepted_exactly_when_airflow_accepts_it(expression: str) -> None:
    airflow = _airflow_verdict(expression)
    dynadag = _dynadag_verdict(expression)
    assert (dynadag is None) == (airflow is None), (airflow, dynadag)
    if airflow is not None:
        # the problem carries Airflow's own reason, not a paraphrase
        assert airflow in dynadag


@pytest.mark.parametrize("expression", ACCEPTED_BY_AIRFLOW)
def test_migrated_schedules_of_the_original_are_accepted(expression: str) -> None:
    assert normalize_schedule(f"  {expression} ") == expression


@pytest.mark.parametrize("expression", sorted(NEVER_FIRES))
def test_a_schedule_that_never_fires_is_a_problem_though_airflow_accepts_it(
    expression: str,
) -> None:
    assert _airflow_verdict(expression) is None
    with pytest.raises(ScheduleError, match="never fires"):
        normalize_schedule(expression)


def test_once_and_continuous_are_taken_by_name() -> None:
    assert {normalize_schedule(name) for name in NON_CRON_SCHEDULES} == NON_CRON_SCHEDULES
