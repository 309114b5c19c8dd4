"""Probe one Airflow target release by running code in its venv; render FACTS.md from the probes.

    .venv-airflow/3.0.6/bin/python infra/airflow-targets/probe_facts.py probe > /tmp/3.0.6.json
    python3 infra/airflow-targets/probe_facts.py render /tmp/*.json  # FACTS.md's generated part

`make airflow-venvs` builds the venvs. Nothing here is imported by dynadag; it only records
facts (import paths, signatures, cron behaviour) that the compiler's capability table relies on.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

MARK = "@@PROBE@@"

# (fact, [candidate "module:attr"]) — every candidate is imported in a fresh interpreter.
IMPORTS: list[tuple[str, list[str]]] = [
    ("DAG", ["airflow.sdk:DAG", "airflow:DAG", "airflow.models.dag:DAG", "airflow.models:DAG"]),
    ("dag decorator", ["airflow.sdk:dag", "airflow.decorators:dag"]),
    ("task decorator", ["airflow.sdk:task", "airflow.decorators:task"]),
    ("TaskGroup", ["airflow.sdk:TaskGroup", "airflow.utils.task_group:TaskGroup"]),
    (
        "BaseOperator",
        [
            "airflow.sdk:BaseOperator",
            "airflow.models.baseoperator:BaseOperator",
            "airflow.models:BaseOperator",
        ],
    ),
    ("chain", ["airflow.sdk:chain", "airflow.models.baseoperator:chain"]),
    ("Label", ["airflow.sdk:Label", "airflow.utils.edgemodifier:Label"]),
    ("Param", ["airflow.sdk:Param", "airflow.models.param:Param"]),
    (
        "TriggerRule",
        [
            "airflow.sdk:TriggerRule",
            "airflow.utils.trigger_rule:TriggerRule",
            "airflow.task.trigger_rule:TriggerRule",
        ],
    ),
    (
        "get_current_context",
        ["airflow.sdk:get_current_context", "airflow.operators.python:get_current_context"],
    ),
    ("Asset", ["airflow.sdk:Asset", "airflow.assets:Asset", "airflow.datasets:Dataset"]),
    (
        "TriggerDagRunOperator",
        [
            "airflow.providers.standard.operators.trigger_dagrun:TriggerDagRunOperator",
            "airflow.operators.trigger_dagrun:TriggerDagRunOperator",
        ],
    ),
    (
        "BashOperator",
        [
            "airflow.providers.standard.operators.bash:BashOperator",
            "airflow.operators.bash:BashOperator",
        ],
    ),
    (
        "PythonOperator",
        [
            "airflow.providers.standard.operators.python:PythonOperator",
            "airflow.operators.python:PythonOperator",
        ],
    ),
    (
        "EmptyOperator",
        [
            "airflow.providers.standard.operators.empty:EmptyOperator",
            "airflow.operators.empty:EmptyOperator",
        ],
    ),
    (
        "SQLExecuteQueryOperator",
        ["airflow.providers.common.sql.operators.sql:SQLExecuteQueryOperator"],
    ),
    ("GlueJobOperator", ["airflow.providers.amazon.aws.operators.glue:GlueJobOperator"]),
    (
        "EmrServerlessStartJobOperator",
        ["airflow.providers.amazon.aws.operators.emr:EmrServerlessStartJobOperator"],
    ),
    (
        "RedshiftDataOperator",
        ["airflow.providers.amazon.aws.operators.redshift_data:RedshiftDataOperator"],
    ),
    ("BaseHook", ["airflow.sdk:BaseHook", "airflow.hooks.base:BaseHook"]),
    (
        "Variable",
        ["airflow.sdk:Variable", "airflow.models:Variable", "airflow.models.variable:Variable"],
    ),
    (
        "Connection",
        [
            "airflow.sdk:Connection",
            "airflow.models:Connection",
            "airflow.models.connection:Connection",
        ],
    ),
    (
        "DeadlineAlert",
        ["airflow.sdk:DeadlineAlert", "airflow.sdk.definitions.deadline:DeadlineAlert"],
    ),
    (
        "DeadlineReference",
        ["airflow.sdk:DeadlineReference", "airflow.sdk.definitions.deadline:DeadlineReference"],
    ),
    (
        "AsyncCallback",
        [
            "airflow.sdk:AsyncCallback",
            "airflow.sdk.definitions.deadline:AsyncCallback",
            "airflow.sdk.definitions.callback:AsyncCallback",
        ],
    ),
    (
        "SyncCallback",
        [
            "airflow.sdk:SyncCallback",
            "airflow.sdk.definitions.deadline:SyncCallback",
            "airflow.sdk.definitions.callback:SyncCallback",
        ],
    ),
    (
        "CronDataIntervalTimetable",
        [
            "airflow.sdk:CronDataIntervalTimetable",
            "airflow.timetables.interval:CronDataIntervalTimetable",
        ],
    ),
    (
        "CronTriggerTimetable",
        ["airflow.sdk:CronTriggerTimetable", "airflow.timetables.trigger:CronTriggerTimetable"],
    ),
    (
        "MultipleCronTriggerTimetable",
        [
            "airflow.sdk:MultipleCronTriggerTimetable",
            "airflow.timetables.trigger:MultipleCronTriggerTimetable",
        ],
    ),
]

CRON_EXPRS = [
    "0 12 L * *",
    "0 0 * * 1#2",
    "0 0 ? * MON",
    "0 0 15W * *",
    "@annually",
    "@midnight",
    "@daily",
    "0 12 * * *",
    "61 * * * *",
    "* * *",
    "0 0 31 2 *",
    "@sometimes",
    "*/0 * * * *",
    "0 0 * * 8",
    "0 0 * * MON-SUN",
    "5-1 * * * *",
    "0 0 1 * * *",
    "0 0 1 * * 2024",
]

DISTS = [
    "apache-airflow",
    "apache-airflow-core",
    "apache-airflow-task-sdk",
    "apache-airflow-providers-amazon",
    "apache-airflow-providers-common-sql",
    "apache-airflow-providers-sqlite",
    "apache-airflow-providers-standard",
    "apache-airflow-providers-common-compat",
    "croniter",
    "cron-descriptor",
    "pendulum",
    "sqlalchemy",
]

START = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


def err(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:300]}"


# ---------------------------------------------------------------- probes (run inside a target venv)

_IMPORT_CHILD = r"""
import importlib, json, sys, warnings
mod_name, attr = sys.argv[1], sys.argv[2]
warnings.simplefilter("always")
with warnings.catch_warnings(record=True):
    import airflow  # noqa: F401  (its own warnings are not the candidate's)
pre = mod_name in sys.modules
out = {"preloaded": pre}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        obj = getattr(importlib.import_module(mod_name), attr)
        out["ok"] = True
        where, name = getattr(obj, "__module__", "?"), getattr(obj, "__qualname__", attr)
        out["resolves_to"] = f"{where}.{name}"
    except BaseException as e:
        out["ok"] = False
        out["error"] = f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"
out["warnings"] = sorted(
    {f"{w.category.__name__}: {' '.join(str(w.message).split())[:240]}" for w in caught}
)
print("@@PROBE@@" + json.dumps(out))
"""


def probe_imports() -> dict:
    res = {}
    for fact, cands in IMPORTS:
        for cand in cands:
            mod, attr = cand.split(":")
            p = subprocess.run(
                [sys.executable, "-c", _IMPORT_CHILD, mod, attr],
                capture_output=True,
                text=True,
                timeout=300,
            )
            line = next((x for x in p.stdout.splitlines() if x.startswith(MARK)), None)
            res[cand] = (
                json.loads(line[len(MARK) :])
                if line
                else {"ok": False, "error": f"probe crashed: {p.stderr[-300:]}"}
            )
            res[cand]["fact"] = fact
    return res


def params_of(fn) -> dict[str, str]:
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name == "self":
            continue
        if p.kind is p.VAR_KEYWORD:
            out["**" + name] = ""
        elif p.kind is p.VAR_POSITIONAL:
            out["*" + name] = ""
        else:
            out[name] = (
                "<required>"
                if p.default is p.empty
                else re.sub(r" at 0x[0-9a-f]+", "", repr(p.default))
            )
    return out


def first(*cands: str):
    for cand in cands:
        mod, attr = cand.split(":")
        try:
            return getattr(importlib.import_module(mod), attr)
        except Exception:
            continue
    return None


def dag_cls():
    return first("airflow.sdk:DAG", "airflow.models.dag:DAG")


def new_dag(dag_id: str, **kw):
    kw.setdefault("schedule", None)
    kw.setdefault("start_date", START)
    return dag_cls()(dag_id, **kw)


def try_build(make, baseline: frozenset = frozenset()) -> str:
    """ "ok" (plus the warnings it emitted that `baseline` lacks) or the exact error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            make()
        except BaseException as e:
            return err(e)
    extra = sorted(warning_texts(caught) - baseline)
    return "ok" + "".join(" ⚠ " + w for w in extra)


def warning_texts(caught) -> frozenset:
    return frozenset(
        f"{w.category.__name__}: {' '.join(str(w.message).split())[:240]}"
        for w in caught
        if issubclass(w.category, (DeprecationWarning, UserWarning, FutureWarning))
        and "airflow" in (w.filename or "")
    )


def serializer():
    # 3.3 moved to_dict/from_dict from SerializedDAG to DagSerialization.
    return first(
        "airflow.serialization.serialized_objects:DagSerialization",
        "airflow.serialization.serialized_objects:SerializedDAG",
    )


def roundtrip(dag):
    ser = serializer()
    return ser.from_dict(ser.to_dict(dag))


def probe_operators() -> dict:
    specs = {
        "TriggerDagRunOperator": (
            [
                "airflow.providers.standard.operators.trigger_dagrun:TriggerDagRunOperator",
                "airflow.operators.trigger_dagrun:TriggerDagRunOperator",
            ],
            {"trigger_dag_id": "other"},
            {
                "logical_date": "{{ ds }}",
                "execution_date": "{{ ds }}",
                "reset_dag_run": True,
                "trigger_run_id": "r1",
                "deferrable": True,
                "poke_interval": 30,
                "allowed_states": ["success"],
                "failed_states": ["failed"],
                "skip_when_already_exists": True,
                "fail_when_dag_is_paused": True,
                "wait_for_completion": True,
                "conf": {"a": 1},
                "note": "n",
                "openlineage_inject_parent_info": True,
            },
        ),
        "GlueJobOperator": (
            ["airflow.providers.amazon.aws.operators.glue:GlueJobOperator"],
            {"job_name": "j"},
            {
                "waiter_delay": 10,
                "waiter_max_attempts": 5,
                "deferrable": True,
                "wait_for_completion": True,
                "verbose": True,
                "script_args": {"--a": "b"},
                "aws_conn_id": "aws_default",
                "region_name": "us-east-1",
                "stop_job_run_on_kill": True,
            },
        ),
        "EmrServerlessStartJobOperator": (
            ["airflow.providers.amazon.aws.operators.emr:EmrServerlessStartJobOperator"],
            {
                "application_id": "a",
                "execution_role_arn": "arn:aws:iam::123456789012:role/r",
                "job_driver": {"sparkSubmit": {"entryPoint": "s3://b/k.py"}},
            },
            {
                "deferrable": True,
                "waiter_delay": 10,
                "waiter_max_attempts": 5,
                "wait_for_completion": True,
                "name": "n",
                "configuration_overrides": {},
                "enable_application_ui_links": False,
            },
        ),
        "RedshiftDataOperator": (
            ["airflow.providers.amazon.aws.operators.redshift_data:RedshiftDataOperator"],
            {"sql": "select 1"},
            {
                "database": "dev",
                "deferrable": True,
                "waiter_delay": 10,
                "waiter_max_attempts": 5,
                "poll_interval": 10,
                "workgroup_name": "wg",
                "cluster_identifier": "c",
                "secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
                "wait_for_completion": True,
                "session_keep_alive_seconds": 60,
            },
        ),
        "SQLExecuteQueryOperator": (
            ["airflow.providers.common.sql.operators.sql:SQLExecuteQueryOperator"],
            {"sql": "select 1", "conn_id": "c"},
            {
                "database": "db",
                "split_statements": True,
                "autocommit": True,
                "return_last": True,
                "show_return_value_in_logs": True,
            },
        ),
        "BashOperator": (
            [
                "airflow.providers.standard.operators.bash:BashOperator",
                "airflow.operators.bash:BashOperator",
            ],
            {"bash_command": "echo hi"},
            {"env": {"A": "b"}, "append_env": True, "cwd": "/tmp"},
        ),
        "PythonOperator": (
            [
                "airflow.providers.standard.operators.python:PythonOperator",
                "airflow.operators.python:PythonOperator",
            ],
            {"python_callable": print},
            {"op_kwargs": {"a": 1}, "show_return_value_in_logs": False},
        ),
        "BaseOperator": (
            [
                "airflow.providers.standard.operators.empty:EmptyOperator",
                "airflow.operators.empty:EmptyOperator",
            ],
            {},
            {
                "task_display_name": "Nice name",
                "on_skipped_callback": lambda ctx: None,
                "doc_md": "d",
                "retries": 1,
                "retry_delay": datetime.timedelta(minutes=1),
                "execution_timeout": datetime.timedelta(hours=1),
                "pool": "p",
                "trigger_rule": "all_done",
                "owner": "o",
                "email_on_failure": False,
                "max_active_tis_per_dag": 1,
            },
        ),
    }
    out = {}
    seen: dict = {}
    for name, cands, required, extra in ((n, *v) for n, v in specs.items()):
        for cand in cands:
            key = f"{name} from {cand.split(':')[0]}"
            cls = first(cand)
            if cls is None:
                continue
            if cls in seen:
                out[key] = {"same_as": seen[cls]}
                continue
            seen[cls] = key
            out[key] = probe_operator(name, cls, required, extra)
            if name.startswith("BaseOperator"):
                break  # BaseOperator facts need one EmptyOperator, whichever imports
    return out


def probe_operator(name: str, cls, required: dict, extra: dict) -> dict:
    def build(i, kw):
        with new_dag(f"op_{i}") as dag:
            cls(task_id=f"t{i}", **required, **kw)
        roundtrip(dag)

    try_build(lambda: build(0, {}))  # warm-up: first-use warnings of imports are not the args'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        base_result = try_build(lambda: build(0, {}))
    baseline = warning_texts(caught)
    accepts = {"(required args only)": base_result}
    for i, (arg, value) in enumerate({**extra, "not_a_real_arg": 1}.items(), start=1):
        accepts[arg] = try_build(lambda i=i, arg=arg, value=value: build(i, {arg: value}), baseline)
    src = cls
    if name.startswith("BaseOperator"):
        src = first("airflow.sdk:BaseOperator", "airflow.models.baseoperator:BaseOperator")
    return {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "init_params": params_of(src.__init__),
        "accepts": accepts,
    }


def probe_dag_args() -> dict:
    D = dag_cls()
    out = {
        "class": f"{D.__module__}.{D.__qualname__}",
        "init_params": params_of(D.__init__),
        "accepts": {},
    }
    ctt = first(
        "airflow.sdk:CronTriggerTimetable", "airflow.timetables.trigger:CronTriggerTimetable"
    )
    cases: dict = {
        "dag_display_name": "Nice name",
        "doc_md": "# doc",
        "is_paused_upon_creation": True,
        "schedule (cron string)": "0 12 * * *",
        "schedule (CronTriggerTimetable instance)": None,
        "tags": ["a"],
        "max_active_runs": 1,
        "catchup": False,
        "dagrun_timeout": datetime.timedelta(hours=1),
        "description": "d",
        "owner_links": {"o": "https://example.com"},
        "fail_fast": True,
        "max_consecutive_failed_dag_runs": 3,
        "deadline": None,
        "not_a_real_arg": 1,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out["accepts"]["(no extra args)"] = try_build(lambda: roundtrip(new_dag("args_base")))
    baseline = warning_texts(caught)
    for arg, value in cases.items():
        key = arg.split(" ")[0]
        if arg.startswith("schedule (CronTrigger"):
            value = ctt("0 12 * * *", timezone="UTC")
        if arg == "deadline":
            alert, ref, cb = (
                first(
                    "airflow.sdk:DeadlineAlert", "airflow.sdk.definitions.deadline:DeadlineAlert"
                ),
                first(
                    "airflow.sdk:DeadlineReference",
                    "airflow.sdk.definitions.deadline:DeadlineReference",
                ),
                first(
                    "airflow.sdk:AsyncCallback",
                    "airflow.sdk.definitions.deadline:AsyncCallback",
                    "airflow.sdk.definitions.callback:AsyncCallback",
                ),
            )
            if alert is None:
                out["accepts"][arg] = "no DeadlineAlert class in this release"
                continue
            value = alert(
                reference=ref.DAGRUN_QUEUED_AT,
                interval=datetime.timedelta(minutes=30),
                callback=cb("asyncio.sleep", kwargs={"delay": 0}),
            )

        def make(key=key, value=value, arg=arg):
            dag = new_dag("args_" + re.sub(r"\W", "_", arg), **{key: value})
            if hasattr(dag, "validate"):
                dag.validate()
            roundtrip(dag)

        out["accepts"][arg] = try_build(make, baseline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dag = new_dag("default_sched", schedule="0 12 * * *")
        out["schedule_string_timetable"] = (
            f"{type(dag.timetable).__module__}.{type(dag.timetable).__qualname__}"
        )
    return out


def probe_dagrun() -> dict:
    import sqlalchemy as sa
    from airflow.models.dagrun import DagRun

    t = DagRun.__table__
    uniques = [
        f"UniqueConstraint{tuple(c.name for c in con.columns)} name={con.name}"
        for con in t.constraints
        if isinstance(con, sa.UniqueConstraint) and not isinstance(con, sa.PrimaryKeyConstraint)
    ]
    uniques += [
        f"unique Index{tuple(c.name for c in ix.columns)} name={ix.name}"
        for ix in t.indexes
        if ix.unique
    ]
    cols = {
        c: {"nullable": t.c[c].nullable}
        for c in ("logical_date", "execution_date", "run_after", "run_id")
        if c in t.c
    }
    return {"unique": sorted(uniques), "columns": cols}


def core_timetable(tt):
    if hasattr(tt, "next_dagrun_info"):
        return tt
    return roundtrip(new_dag("tt_conv", schedule=tt)).timetable


def stamp(d) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S").removesuffix(":00")


def fire_info(tt) -> str:
    base = importlib.import_module("airflow.timetables.base")
    from pendulum import instance

    core = core_timetable(tt)
    restriction = base.TimeRestriction(earliest=instance(START), latest=None, catchup=True)
    infos, last = [], None
    for _ in range(2):
        info = core.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        di = info.data_interval
        infos.append(
            f"logical {stamp(info.logical_date)}, interval [{stamp(di.start)}, {stamp(di.end)}), "
            f"run_after {stamp(info.run_after)}"
        )
        last = di
    return " ; ".join(infos) or "no run"


def probe_cron() -> dict:
    classes = {}
    for cand in (
        "airflow.timetables.interval:CronDataIntervalTimetable",
        "airflow.sdk:CronDataIntervalTimetable",
        "airflow.timetables.trigger:CronTriggerTimetable",
        "airflow.sdk:CronTriggerTimetable",
    ):
        cls = first(cand)
        if cls is not None:
            classes[cand] = cls
    out = {"classes": {}, "dag_schedule_string": {}}
    for cand, cls in classes.items():
        rows = {}
        for expr in CRON_EXPRS:
            row = {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    tt = cls(expr, "UTC") if "Interval" in cand else cls(expr, timezone="UTC")
                    row["ctor"] = "ok"
                except BaseException as e:
                    row["ctor"] = err(e)
                    rows[expr] = row
                    continue
                try:
                    tt.validate()
                    row["validate"] = "ok"
                except BaseException as e:
                    row["validate"] = err(e)
                    rows[expr] = row
                    continue
                try:
                    row["runs"] = fire_info(tt)
                except BaseException as e:
                    row["runs"] = "but next_dagrun_info raises " + err(e)
            rows[expr] = row
        out["classes"][cand] = rows
    for expr in CRON_EXPRS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                dag = new_dag("s_" + re.sub(r"\W", "_", expr), schedule=expr)
            except BaseException as e:
                out["dag_schedule_string"][expr] = "DAG(): " + err(e)
                continue
            try:
                dag.validate() if hasattr(dag, "validate") else dag.timetable.validate()
                roundtrip(dag)
                out["dag_schedule_string"][expr] = "ok"
            except BaseException as e:
                out["dag_schedule_string"][expr] = "validate/serialize: " + err(e)
    src = {}
    for mod in ("airflow.timetables._cron", "airflow.sdk.definitions.timetables._cron"):
        with contextlib.suppress(Exception):
            text = Path(importlib.import_module(mod).__file__).read_text()
            src[mod] = [
                ln.strip()
                for ln in text.splitlines()
                if re.match(r"\s*(from|import)\s+(croniter|cron_descriptor|cronsim)", ln)
            ]
    out["cron_imports"] = src
    return out


def probe() -> dict:
    from importlib import metadata

    versions = {}
    for d in DISTS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[d] = metadata.version(d)
    facts = {
        "airflow": versions.get("apache-airflow"),
        "versions": versions,
        "python": sys.version.split()[0],
    }
    facts["imports"] = probe_imports()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        facts["operators"] = probe_operators()
        facts["dag"] = probe_dag_args()
        facts["dagrun"] = probe_dagrun()
        facts["cron"] = probe_cron()
    return facts


# ---------------------------------------------------------------- render (any python)

BEGIN, END = "<!-- BEGIN GENERATED by probe_facts.py render -->", "<!-- END GENERATED -->"


def md(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def about_import(warning: str, cand: str) -> bool:
    """Whether a warning seen while importing `cand` is about that import.

    It is when its message names the module or attribute, or speaks of modules, imports or
    moves; others (metrics settings, Flask, SQLAlchemy 2.0 notes) are only counted.
    """
    mod, attr = cand.split(":")
    message = warning.partition(": ")[2].lower()
    keys = (attr, mod, mod.rsplit(".", 1)[-1], "module", "import", "moved")
    return any(k.lower() in message for k in keys if k != "airflow")


def short(result: str) -> str:
    return result if result.startswith("ok") else "✗ " + result


def render(facts: list[dict]) -> str:
    facts.sort(key=lambda f: tuple(int(x) for x in f["airflow"].split(".")))
    vs = [f["airflow"] for f in facts]
    out = []
    out.append("### Installed versions\n")
    dists = [d for d in DISTS if any(d in f["versions"] for f in facts)]
    out.append(
        table(
            ["distribution", *vs], [[d, *[f["versions"].get(d, "—") for f in facts]] for d in dists]
        )
    )

    out.append(
        "\n### Import paths\n\nEach `from M import X` runs in a fresh interpreter after "
        "`import airflow`; cell = `ok → module.qualname` of the object (⚠ = warnings emitted by "
        "that import) or ✗ the exact error. (P) = M was already imported by `import airflow`, so "
        "only warnings raised on attribute access are seen. Unrelated warnings (metrics "
        "settings, Flask, SQLAlchemy 2.0 notes, raised by whatever module loads first) are only "
        "counted.\n"
    )
    rows = []
    for fact, cands in IMPORTS:
        for cand in cands:
            cells = []
            for f in facts:
                r = f["imports"][cand]
                if r["ok"]:
                    c = "ok → " + r["resolves_to"]
                    ours = [w for w in r.get("warnings", []) if about_import(w, cand)]
                    others = len(r.get("warnings", [])) - len(ours) + r.get("other_warnings", 0)
                    if ours:
                        c += " ⚠ " + "; ".join(ours)
                    if others:
                        c += f" (+{others} unrelated warnings)"
                    if r.get("preloaded"):
                        c += " (P)"
                else:
                    c = "✗ " + r["error"]
                cells.append(c)
            rows.append([fact, "`from " + cand.replace(":", " import ") + "`", *cells])
    out.append(table(["fact", "import", *vs], rows))

    out.append(
        "\n### Operator / DAG keyword arguments\n\nEach argument alone, constructed inside a DAG, "
        "then the DAG validated and serialized: ok (⚠ = extra warnings it caused) or ✗ the exact "
        "error; ≡ M = the same class as the one imported from M, probed there.\n"
    )
    keys: list[str] = []
    for f in reversed(facts):  # newest first: the provider paths before the 2.x core ones
        keys += [k for k in f["operators"] if k not in keys and not k.startswith("BaseOperator")]
    keys.append("BaseOperator")
    for name in keys:
        out.append(f"\n#### {name}\n")
        if name == "BaseOperator":
            probes = [
                next(v for k, v in f["operators"].items() if k.startswith(name)) for f in facts
            ]
            out[-1] = "\n#### BaseOperator (through the EmptyOperator the release has)\n"
        else:
            probes = [f["operators"].get(name) for f in facts]

        def cell(pr, get):
            if pr is None:
                return "— (not importable)"
            if "same_as" in pr:
                return f"≡ {pr['same_as'].split(' from ')[-1]}"
            return get(pr)

        args: list[str] = []
        for pr in probes:
            if pr and "accepts" in pr:
                args += [a for a in pr["accepts"] if a not in args]
        out.append(
            table(
                ["argument", *vs],
                [
                    [
                        a,
                        *[
                            cell(pr, lambda pr, a=a: short(pr["accepts"].get(a, "—")))
                            for pr in probes
                        ],
                    ]
                    for a in args
                ],
            )
        )
        pnames: list[str] = []
        for pr in probes:
            if pr and "init_params" in pr:
                pnames += [p for p in pr["init_params"] if p not in pnames]
        if name == "BaseOperator":
            out.append("\n`BaseOperator.__init__` signature (default, or — when absent):\n")
        else:
            out.append("\n`__init__` signature (default, or — when absent):\n")
        out.append(
            table(
                ["parameter", *vs],
                [
                    [p, *[cell(pr, lambda pr, p=p: pr["init_params"].get(p, "—")) for pr in probes]]
                    for p in pnames
                ],
            )
        )
    out.append("\n#### DAG\n")
    out.append(
        table(
            ["argument", *vs],
            [
                [a, *[short(f["dag"]["accepts"].get(a, "—")) for f in facts]]
                for a in facts[0]["dag"]["accepts"]
            ],
        )
    )
    out.append(
        "\n"
        + table(
            ["", *vs],
            [
                ["DAG class used", *[f["dag"]["class"] for f in facts]],
                [
                    'timetable for `schedule="0 12 * * *"`',
                    *[f["dag"]["schedule_string_timetable"] for f in facts],
                ],
            ],
        )
    )
    pnames = []
    for f in facts:
        for p in f["dag"]["init_params"]:
            if p not in pnames:
                pnames.append(p)
    out.append("\n`DAG.__init__` signature (default, or — when absent):\n")
    out.append(
        table(
            ["parameter", *vs],
            [[p, *[f["dag"]["init_params"].get(p, "—") for f in facts]] for p in pnames],
        )
    )

    out.append("\n### DagRun uniqueness (`airflow.models.dagrun.DagRun.__table__`)\n")
    out.append(
        table(
            ["", *vs],
            [
                [
                    "unique constraints/indexes",
                    *["<br>".join(f["dagrun"]["unique"]) for f in facts],
                ],
                *[
                    [
                        f"`{c}` nullable",
                        *[
                            str(f["dagrun"]["columns"].get(c, {}).get("nullable", "—"))
                            for f in facts
                        ],
                    ]
                    for c in ("execution_date", "logical_date", "run_after")
                ],
            ],
        )
    )

    out.append("\n### Cron\n")
    out.append(
        table(
            ["", *vs],
            [
                [
                    "cron imports in timetables",
                    *[
                        "<br>".join(
                            f"{m}: {'; '.join(v)}" for m, v in f["cron"]["cron_imports"].items()
                        )
                        for f in facts
                    ],
                ]
            ],
        )
    )
    for cand in (
        "airflow.timetables.interval:CronDataIntervalTimetable",
        "airflow.sdk:CronDataIntervalTimetable",
        "airflow.timetables.trigger:CronTriggerTimetable",
        "airflow.sdk:CronTriggerTimetable",
    ):
        have = [f for f in facts if cand in f["cron"]["classes"]]
        if not have:
            continue
        call = '(expr, "UTC")' if "Interval" in cand else '(expr, timezone="UTC")'
        out.append(
            f"\n#### `{cand.replace(':', '.')}{call}` + `.validate()` → "
            "first two runs from 2025-01-01 (catchup)\n"
        )
        rows = []
        for expr in CRON_EXPRS:
            cells = []
            for f in facts:
                r = f["cron"]["classes"].get(cand, {}).get(expr)
                if r is None:
                    cells.append("class missing")
                elif r["ctor"] != "ok":
                    cells.append("✗ ctor: " + r["ctor"])
                elif r["validate"] != "ok":
                    cells.append("✗ validate: " + r["validate"])
                else:
                    runs = r.get("runs", "")
                    cells.append("ok" + (", " if runs.startswith("but") else ": ") + runs)
            rows.append([f"`{expr}`", *cells])
        out.append(table(["expr", *vs], rows))
    out.append("\n#### `DAG(schedule=expr)` then `dag.validate()` and serialization round trip\n")
    out.append(
        table(
            ["expr", *vs],
            [
                [f"`{e}`", *[short(f["cron"]["dag_schedule_string"][e]) for f in facts]]
                for e in CRON_EXPRS
            ],
        )
    )
    return "\n".join(out) + "\n"


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "probe":
        home = tempfile.mkdtemp(prefix="airflow-probe-")
        os.environ.setdefault("AIRFLOW_HOME", home)
        os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        facts = probe()
        print(MARK + json.dumps(facts))
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "render":
        facts = []
        for p in sys.argv[2:]:
            text = Path(p).read_text()
            facts.append(
                json.loads(next(ln for ln in text.splitlines() if ln.startswith(MARK))[len(MARK) :])
            )
        target = Path(__file__).with_name("FACTS.md")
        doc = target.read_text() if target.exists() else f"# Facts\n\n{BEGIN}\n{END}\n"
        head, _, rest = doc.partition(BEGIN)
        _, _, tail = rest.partition(END)
        target.write_text(f"{head}{BEGIN}\n\n{render(facts)}\n{END}{tail}")
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
