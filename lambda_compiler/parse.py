"""Raw rows → `Task` / `Job` / `Scheduler`, collecting every problem on the way.

Parsing never stops at the first problem: each attribute is checked on its own so
a user fixing a row sees everything that is wrong with it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from lambda_compiler.config import DEFAULT_CONFIG, CompilerConfig
from lambda_compiler.model import Edge, Job, JobRef, Scheduler, Task, TaskId
from lambda_compiler.params import (
    JobParams,
    JobTaskConfig,
    SchedulerJobConfig,
    SchedulerParams,
    StrictModel,
    error_messages,
)
from lambda_compiler.problems import Problem, ProblemCode
from lambda_compiler.redact import excerpt
from lambda_compiler.rows import (
    JOB_KEY,
    SCHEDULER_KEY,
    TASK_KEY,
    Row,
    RowRef,
    RowValueError,
    as_id,
    as_id_list,
    as_key,
    clean_value,
    is_enabled,
    json_type,
    row_ref,
)
from lambda_compiler.snapshot import FILE_KEYS
from lambda_compiler.task_types import TASK_TYPES

M = TypeVar("M", bound=StrictModel)

# The attributes each parser reads, and whether each holds JSON.
_TASK_ATTRIBUTES = {
    "task_id": False,
    "task_name": False,
    "task_type": False,
    "task_params": True,
    "status": False,
}
_JOB_ATTRIBUTES = {
    "job_type": False,
    "job_id": False,
    "job_name": False,
    "task_list": False,
    "job_task_dependencies": True,
    "job_params": True,
    "job_task_configs": True,
    "status": False,
}
_SCHEDULER_ATTRIBUTES = {
    "schedule_id": False,
    "schedule_name": False,
    "schedule_description": False,
    "job_list": False,
    "schedule_job_dependencies": True,
    "schedule_params": True,
    "schedule_job_configs": True,
    "status": False,
}

JSON_ATTRIBUTES: dict[str, frozenset[str]] = {
    key: frozenset(name for name, holds_json in attributes.items() if holds_json)
    for key, attributes in zip(
        FILE_KEYS, (_TASK_ATTRIBUTES, _JOB_ATTRIBUTES, _SCHEDULER_ATTRIBUTES), strict=True
    )
}
"""Per rows-file table key, the attributes holding JSON (text is parsed, maps taken as is)."""


class _Checker:
    """Reads attributes of one row, turning each failure into a `Problem`.

    `attributes` are the attributes the parser reads, each saying whether it holds JSON
    (a string there is parsed). Each is checked once, whole, by `clean_value`: one that
    fails is reported and then read as absent, so nothing else is said about it. Other
    attributes never reach a DAG file and are not read.
    """

    def __init__(self, ref: RowRef, row: Row, attributes: dict[str, bool]) -> None:
        self.ref = ref
        self.row: Row = {}
        self.rejected: set[str] = set()
        self.problems: list[Problem] = []
        for name, holds_json in attributes.items():
            value, issues = clean_value(row.get(name), json_text=holds_json)
            for issue in issues:
                self.add(f"{name}{issue.path}", issue.code, str(issue))
            if issues:
                self.rejected.add(name)
            elif value is not None:
                self.row[name] = value

    def add(self, field: str, code: ProblemCode, message: str) -> None:
        self.problems.append(Problem(self.ref, field, code, message))

    def key(self, name: str) -> str | None:
        if name in self.rejected:
            return None
        if self.row.get(name) is None:
            self.add(name, ProblemCode.MISSING_ATTRIBUTE, "the key attribute is missing")
            return None
        return self.id(name, self.row[name], as_key)

    def id(self, field: str, value: Any, read: Callable[[Any], str] = as_id) -> str | None:
        """An id (`read` is `as_key` for the row's own key: kept exactly as stored)."""
        try:
            return read(value)
        except RowValueError as exc:
            self.add(field, exc.code, str(exc))
            return None

    def text(self, name: str, *, required: bool, strip: bool = True) -> str | None:
        """A string attribute; names are trimmed, free text (`strip=False`) is kept exactly."""
        value = self.row.get(name)
        if name in self.rejected:
            return None
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(name, ProblemCode.MISSING_ATTRIBUTE, "is missing or empty")
            return None
        if not isinstance(value, str):
            self.add(name, ProblemCode.WRONG_TYPE, f"must be a string, got {type(value).__name__}")
            return None
        return value.strip() if strip else value

    def enabled(self) -> bool:
        try:
            return is_enabled(self.row.get("status"))
        except RowValueError as exc:
            # Counted as enabled so the problem is reported on the DAG, which keeps
            # its last good file, instead of the DAG silently disappearing.
            self.add("status", exc.code, str(exc))
            return True

    def json(self, name: str, expected: type) -> Any:
        """A JSON attribute (a string holding JSON, or a native map or list); absent is empty."""
        value = self.row.get(name)
        if value is None:
            return expected()
        if not isinstance(value, expected):
            wanted = "an object" if expected is dict else "a list"
            self.add(name, ProblemCode.WRONG_TYPE, f"must be {wanted}, got {json_type(value)}")
            return expected()
        return value

    def id_list(self, name: str) -> list[str] | None:
        value = self.row.get(name)
        if value is None or value == "":
            return None
        try:
            return as_id_list(value)
        except RowValueError as exc:
            self.add(name, exc.code, str(exc))
            return []

    def model(
        self,
        field: str,
        model: type[M],
        data: Any,
        code: ProblemCode,
        context: dict[str, Any] | None = None,
    ) -> M | None:
        if field in self.rejected:
            return None
        try:
            return model.model_validate(data, context=context)
        except ValidationError as exc:
            for path, reason, refused in error_messages(exc, field, model):
                self.add(path, ProblemCode.NOT_ALLOWED if refused else code, reason)
            return None

    def jinja(self, field: str, value: Any, config: CompilerConfig) -> None:
        """A problem for each string in `value` whose Jinja could read secrets, unless allowed."""
        if config.allow_secrets_jinja:
            return
        from lambda_compiler.row_jinja import string_refusals  # jinja2 only when rows have text

        for path, reason in string_refusals(value, field):
            self.add(path, ProblemCode.NOT_ALLOWED, reason)

    def dependencies(self, name: str, child_key: str, listed: list[str] | None) -> list[Edge]:
        """Edges from ``[{child_key: x, "pid": y}]``; ``pid`` is the upstream."""
        edges = []
        for index, entry in enumerate(self.json(name, list)):
            where = f"{name}[{index}]"
            if not isinstance(entry, dict):
                self.add(where, ProblemCode.WRONG_TYPE, 'must be an object like {"pid": ...}')
                continue
            unknown = sorted(set(entry) - {child_key, "pid"})
            if unknown:
                self.add(
                    where,
                    ProblemCode.WRONG_TYPE,
                    f"has unknown keys {unknown}; expected {child_key!r} and 'pid'",
                )
            if entry.get(child_key) is None:
                self.add(where, ProblemCode.MISSING_ATTRIBUTE, f"has no {child_key!r}")
                continue
            child = self.id(f"{where}.{child_key}", entry[child_key])
            for upstream in self._upstreams(f"{where}.pid", entry.get("pid"), listed):
                if child is not None:
                    edges.append(Edge(downstream=child, upstream=upstream))
        return edges

    def _upstreams(self, field: str, pid: Any, listed: list[str] | None) -> list[str]:
        # The original treats "", null and 0 as "no upstream"; the string "0" too,
        # unless a task or job "0" is really listed.
        if pid is None or pid == "" or (isinstance(pid, (int, float)) and pid == 0):
            return []
        try:
            ids = as_id_list(pid)
        except RowValueError as exc:
            self.add(field, exc.code, str(exc))
            return []
        return [i for i in ids if not (i == "0" and (listed is None or "0" not in listed))]


def parse_task(
    row: Row, table: str, config: CompilerConfig = DEFAULT_CONFIG
) -> tuple[Task | None, list[Problem]]:
    """A `Task` from an `mwaa_task` row, or None when its key is unusable.

    `config` says which code-running task types (`PYTHON`, `BASH`) are allowed.
    """
    check = _Checker(row_ref(table, TASK_KEY, row), row, _TASK_ATTRIBUTES)
    task_id = check.key("task_id")
    name = check.text("task_name", required=True)
    task_type = check.text("task_type", required=True)
    enabled = check.enabled()
    raw_params = check.json("task_params", dict)
    check.jinja("task_params", raw_params, config)
    params = None
    if task_type is not None:
        spec = TASK_TYPES.get(task_type.upper())
        if spec is None:
            check.add(
                "task_type",
                ProblemCode.UNKNOWN_TASK_TYPE,
                f"{excerpt(task_type)} is not a known task type; "
                f"known types: {', '.join(TASK_TYPES)}",
            )
        else:
            task_type = spec.name
            params = check.model(
                "task_params",
                spec.params,
                raw_params,
                ProblemCode.INVALID_TASK_PARAMS,
                context={"config": config},
            )
    if task_id is None:
        return None, check.problems
    task = Task(check.ref, TaskId(task_id), name, task_type, params, enabled)
    return task, check.problems


def parse_job(
    row: Row, table: str, config: CompilerConfig = DEFAULT_CONFIG
) -> tuple[Job | None, list[Problem]]:
    """A `Job` from an `mwaa_job` row, or None when its key is unusable."""
    check = _Checker(row_ref(table, JOB_KEY, row), row, _JOB_ATTRIBUTES)
    job_type = check.key("job_type")
    job_id = check.key("job_id")
    name = check.text("job_name", required=True)
    enabled = check.enabled()
    listed = check.id_list("task_list")
    edges = check.dependencies("job_task_dependencies", "task_id", listed)
    if listed is None:
        listed = _ids_from_edges(edges)
    params = check.model(
        "job_params",
        JobParams,
        check.json("job_params", dict),
        ProblemCode.INVALID_PARAMS,
        context={"config": config},
    )
    configs = _keyed_configs(check, "job_task_configs", "task_id", JobTaskConfig)
    if job_type is None or job_id is None:
        return None, check.problems
    job = Job(
        ref=check.ref,
        job_type=job_type,
        job_id=job_id,
        name=name,
        task_ids=tuple(TaskId(t) for t in listed),
        edges=tuple(edges),
        params=params or JobParams(),
        task_configs=configs,
        enabled=enabled,
    )
    return job, check.problems


def parse_scheduler(
    row: Row, table: str, config: CompilerConfig = DEFAULT_CONFIG
) -> tuple[Scheduler | None, list[Problem]]:
    """A `Scheduler` from an `mwaa_scheduler` row, or None when its key is unusable."""
    check = _Checker(row_ref(table, SCHEDULER_KEY, row), row, _SCHEDULER_ATTRIBUTES)
    schedule_id = check.key("schedule_id")
    name = check.text("schedule_name", required=True)
    description = check.text("schedule_description", required=False, strip=False)
    enabled = check.enabled()
    listed = _job_refs(check, check.id_list("job_list"))
    edges = check.dependencies("schedule_job_dependencies", "job_id", listed)
    if listed is None:
        listed = _ids_from_edges(edges)
    raw_params = check.json("schedule_params", dict)
    if "schedule_interval" in raw_params and "schedule" in raw_params:
        check.add(
            "schedule_params",
            ProblemCode.INVALID_PARAMS,
            "give 'schedule_interval' or 'schedule', not both",
        )
    params = check.model(
        "schedule_params",
        SchedulerParams,
        raw_params,
        ProblemCode.INVALID_PARAMS,
        context={"config": config},
    )
    configs = _keyed_configs(check, "schedule_job_configs", "job_id", SchedulerJobConfig)
    for key, job_config in configs.items():
        # TriggerDagRunOperator renders conf with the scheduler run's context.
        check.jinja(f"schedule_job_configs.{key}.conf", job_config.conf, config)
    if schedule_id is None:
        return None, check.problems
    scheduler = Scheduler(
        ref=check.ref,
        schedule_id=schedule_id,
        name=name,
        description=description,
        job_refs=tuple(JobRef(j) for j in listed),
        edges=tuple(edges),
        params=params or SchedulerParams(),
        job_configs=configs,
        enabled=enabled,
    )
    return scheduler, check.problems


def _job_refs(check: _Checker, refs: list[str] | None) -> list[str] | None:
    """Job references are ``job_id`` or ``job_type:job_id``; spaces around ':' are dropped."""
    if refs is None:
        return None
    return [":".join(part.strip() for part in ref.split(":", 1)) for ref in refs]


def _ids_from_edges(edges: list[Edge]) -> list[str]:
    """The original's fallback when no list is given: every id the dependencies name."""
    seen: dict[str, None] = {}
    for edge in edges:
        seen.setdefault(edge.upstream)
        seen.setdefault(edge.downstream)
    return list(seen)


def _keyed_configs(check: _Checker, name: str, id_key: str, model: type[M]) -> dict[str, M]:
    """Per-task or per-job settings, as ``{id: {...}}`` or ``[{id_key: id, ...}]``."""
    data = check.json(name, list if isinstance(check.row.get(name), list) else dict)
    if isinstance(data, list):
        entries = {}
        for index, entry in enumerate(data):
            if not isinstance(entry, dict) or entry.get(id_key) is None:
                check.add(f"{name}[{index}]", ProblemCode.WRONG_TYPE, f"needs an {id_key!r}")
                continue
            entry = dict(entry)
            entries[str(entry.pop(id_key))] = entry
        data = entries
    configs = {}
    for key, value in sorted(data.items()):
        config = check.model(f"{name}.{key}", model, value, ProblemCode.INVALID_PARAMS)
        if config is not None:
            configs[key] = config
    return configs
