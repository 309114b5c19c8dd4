"""Schedule validation with the cron library Airflow's own timetables use (croniter).

A schedule is accepted exactly when Airflow would accept it: Airflow's presets are
expanded as Airflow expands them, the rest is handed to croniter as Airflow's
``CronMixin.validate`` does, and croniter's reason becomes the problem text.
"""

from __future__ import annotations

import datetime

from croniter import CroniterBadDateError, croniter

from lambda_compiler.redact import excerpt

# `airflow.utils.dates.cron_presets`: what Airflow expands before croniter sees it.
AIRFLOW_CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
# Schedules Airflow takes by name that are not cron at all.
NON_CRON_SCHEDULES = frozenset({"@once", "@continuous"})


_NEVER_FIRES_FROM = datetime.datetime(2024, 1, 1)


class ScheduleError(ValueError):
    """Why a schedule is not valid, in words."""


def normalize_schedule(value: object, *, nearest_weekday: bool = True) -> str | None:
    """The schedule Airflow should get: trimmed cron or preset, or None for no schedule.

    Raises `ScheduleError` with croniter's reason when Airflow would reject it.
    `nearest_weekday` is False for releases whose croniter rejects ``W`` in the
    day-of-month field (`AirflowTarget.cron_nearest_weekday`).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScheduleError(
            f"must be a cron string, a preset like '@daily', or null, got {type(value).__name__}"
        )
    text = " ".join(value.split())
    if text in {"", "None", "none", "null"}:
        return None
    if text in NON_CRON_SCHEDULES:
        return text
    try:
        cron = croniter(AIRFLOW_CRON_PRESETS.get(text, text), _NEVER_FIRES_FROM)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        # croniter's own errors are ValueErrors; a few malformed inputs escape as others.
        raise ScheduleError(
            f"{excerpt(text)} is not a cron expression Airflow accepts: {exc}"
        ) from None
    try:
        cron.get_next(datetime.datetime)
    except CroniterBadDateError:
        # Airflow's validation only parses; the scheduler would then fail on every pass.
        raise ScheduleError(
            f"{excerpt(text)} never fires (no such date, e.g. 31 February); Airflow would "
            "accept it and then never schedule a run"
        ) from None
    fields = text.split(" ")
    if not nearest_weekday and len(fields) >= 5 and "w" in fields[2].lower():
        raise ScheduleError(
            f"{excerpt(text)}: the 'W' (nearest weekday) day of month needs Airflow 3.3 or newer "
            "(older releases ship a croniter that rejects it)"
        )
    return text
