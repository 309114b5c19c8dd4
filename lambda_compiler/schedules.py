"""Schedule validation: five-field cron expressions and Airflow's presets."""

from __future__ import annotations

import re

PRESETS = frozenset(
    {"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"}
)

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

# name, lowest, highest, names accepted in place of numbers
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_STEP = re.compile(r"^(?P<range>[^/]+)(/(?P<step>\d+))?$")


class ScheduleError(ValueError):
    """Why a schedule is not valid, in words."""


def normalize_schedule(value: str | None) -> str | None:
    """The schedule Airflow should get: trimmed cron or preset, or None for no schedule.

    Raises `ScheduleError` naming the offending cron field.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScheduleError(
            f"must be a cron string, a preset like '@daily', or null, got {value!r}"
        )
    text = " ".join(value.split())
    if text in {"", "None", "none", "null"}:
        return None
    if text.startswith("@"):
        if text not in PRESETS:
            raise ScheduleError(
                f"{text!r} is not an Airflow preset; use one of {', '.join(sorted(PRESETS))}"
            )
        return text
    parts = text.split(" ")
    if len(parts) != 5:
        raise ScheduleError(
            f"{value!r} has {len(parts)} fields; a cron expression has 5 "
            "(minute hour day-of-month month day-of-week)"
        )
    for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True):
        _check_field(part, name, low, high, names)
    return text


def _check_field(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> None:
    for item in text.split(","):
        match = _STEP.match(item)
        if not match:
            raise ScheduleError(f"{name} field {text!r} is not valid cron")
        if match["step"] is not None and int(match["step"]) == 0:
            raise ScheduleError(f"{name} field {text!r} has a step of 0")
        span = match["range"]
        if span == "*":
            continue
        bounds = span.split("-")
        if len(bounds) > 2:
            raise ScheduleError(f"{name} field {text!r} is not valid cron")
        values = [_field_value(bound, name, low, high, names) for bound in bounds]
        if len(values) == 2 and values[0] > values[1]:
            raise ScheduleError(f"{name} field {text!r} has a range that runs backwards")


def _field_value(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + (1 if name == "month" else 0)
    if not text.isdigit():
        raise ScheduleError(f"{name} field has {text!r}, which is not a number")
    number = int(text)
    if not low <= number <= high:
        raise ScheduleError(f"{name} field has {number}, outside {low}-{high}")
    return number
