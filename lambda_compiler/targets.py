"""The Airflow release a deployment compiles for, and what each release can do.

Generated files must import and run on the release the MWAA environment runs. The
differences between releases live here, in one table of capabilities, and nowhere
else: templates and the compiler ask a target where a class lives or whether a
feature exists; they never compare version numbers themselves.

Facts in this table were checked on real releases installed side by side
(``infra/airflow-targets/``), not read from documentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

_VERSION = re.compile(r"^\s*v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.\d+)?\s*$")


class TargetError(ValueError):
    """An Airflow version dynadag cannot compile for; the message lists the ones it can."""


# Where each class a generated file refers to lives. Provider operators that sit in the
# same module on every release (common SQL, Amazon) are not listed: they need no table.
_AIRFLOW_2 = MappingProxyType(
    {
        "DAG": "airflow.models.dag",
        "TaskGroup": "airflow.utils.task_group",
        "Dataset": "airflow.datasets",
        "TriggerDagRunOperator": "airflow.operators.trigger_dagrun",
        "BashOperator": "airflow.operators.bash",
        "PythonOperator": "airflow.operators.python",
        "CronDataIntervalTimetable": "airflow.timetables.interval",
        "CronTriggerTimetable": "airflow.timetables.trigger",
    }
)
_AIRFLOW_3 = MappingProxyType(
    {
        "DAG": "airflow.sdk",
        "TaskGroup": "airflow.sdk",
        "Asset": "airflow.sdk",
        "TriggerDagRunOperator": "airflow.providers.standard.operators.trigger_dagrun",
        "BashOperator": "airflow.providers.standard.operators.bash",
        "PythonOperator": "airflow.providers.standard.operators.python",
        "CronDataIntervalTimetable": "airflow.timetables.interval",
        "CronTriggerTimetable": "airflow.timetables.trigger",
    }
)
# Deadline alerts came in 3.1, outside the `airflow.sdk` namespace; 3.3 has them in
# `airflow.sdk`. 3.2 is not installed by the tests: it gets the path that works on both
# 3.1.8 and 3.3.2. The timetables stay in `airflow.timetables` on every release: 3.3's
# `airflow.sdk` copies are task-SDK classes the DAG processor converts, with no benefit.
_DEADLINE_CLASSES = ("DeadlineAlert", "DeadlineReference", "AsyncCallback")
_DEADLINES_3_1 = dict.fromkeys(_DEADLINE_CLASSES, "airflow.sdk.definitions.deadline")
_DEADLINES_3_3 = dict.fromkeys(_DEADLINE_CLASSES, "airflow.sdk")


@dataclass(frozen=True)
class AirflowTarget:
    """One Airflow release line (major.minor) and how generated files address it.

    `asset_class` is what a data-aware schedule or outlet is called (`Dataset` on 2.x).
    `cron_nearest_weekday` says whether the release's croniter takes ``15W`` (nearest
    weekday) in the day-of-month field: croniter 7 does, the 5.x and 6.x that Airflow
    2.10-3.1 ship reject it, and Airflow then fails to import the DAG.
    `logical_date_source` is the Jinja expression of the triggering run's logical date
    (a 3.x run may have none; its `run_after` stands in then).
    """

    major: int
    minor: int
    modules: MappingProxyType[str, str] = field(repr=False, compare=False)  # follows the version
    asset_class: str
    logical_date_source: str
    cron_nearest_weekday: bool = False

    @property
    def version(self) -> str:
        """``major.minor``, as users write it (``2.11``)."""
        return f"{self.major}.{self.minor}"

    @property
    def has_deadlines(self) -> bool:
        """Whether DAG-level deadline alerts exist on this release."""
        return "DeadlineAlert" in self.modules

    def module_of(self, name: str) -> str:
        """The module a generated file imports `name` from on this release."""
        try:
            return self.modules[name]
        except KeyError:
            raise TargetError(f"Airflow {self.version} has no {name}") from None


def _target(
    major: int, minor: int, extra: dict[str, str] | None = None, *, croniter_7: bool = False
) -> AirflowTarget:
    base = _AIRFLOW_2 if major == 2 else _AIRFLOW_3
    return AirflowTarget(
        major=major,
        minor=minor,
        modules=MappingProxyType({**base, **(extra or {})}),
        asset_class="Dataset" if major == 2 else "Asset",
        logical_date_source="logical_date" if major == 2 else "(logical_date or dag_run.run_after)",
        cron_nearest_weekday=croniter_7,
    )


TARGETS: dict[str, AirflowTarget] = {
    target.version: target
    for target in (
        _target(2, 10),
        _target(2, 11),
        _target(3, 0),
        _target(3, 1, _DEADLINES_3_1),
        _target(3, 2, _DEADLINES_3_1),
        _target(3, 3, _DEADLINES_3_3, croniter_7=True),
    )
}
DEFAULT_TARGET = TARGETS["3.3"]
"""Used when no version is set: the newest release the generated files are proven on."""
NEWEST = DEFAULT_TARGET


def target_for(version: str) -> AirflowTarget:
    """The target for a version string: ``2.11``, ``2.11.0`` or a newer ``3.x``.

    A 3.x release newer than the table compiles as the newest known one (Airflow keeps
    its public DAG-authoring interface within a major version).
    """
    match = _VERSION.match(version) if isinstance(version, str) else None
    if match:
        major, minor = int(match["major"]), int(match["minor"])
        key = f"{major}.{minor}"
        if key in TARGETS:
            return TARGETS[key]
        if major == NEWEST.major and minor > NEWEST.minor:
            return _target(major, minor, dict(NEWEST.modules), croniter_7=True)
    known = ", ".join(TARGETS)
    raise TargetError(
        f"Airflow {version!r} is not a version dynadag compiles for; "
        f"use one of {known} (or a newer 3.x)"
    )
