"""`dynadag graph` text: Mermaid and DOT are deterministic, and no row name can escape a label."""

from __future__ import annotations

import json
import re

from lambda_compiler.diagram import Node, diagram, dot_text, mermaid_text, to_dot, to_mermaid
from lambda_compiler.lineage import lineage
from lambda_compiler.snapshot import snapshot_from_json
from tests.rowkit import job, scheduler, task

HOSTILE = 'x"] --> evil["pwned\nend\r%% `<b>` \\ {}'


def _plan(rows: dict[str, list[dict[str, object]]], dag_id: str):  # type: ignore[no-untyped-def]
    found = lineage(snapshot_from_json(rows))
    (plan,) = [p for p in found.plans.values() if p.dag_id == dag_id]
    return plan


def _deps(*pairs: tuple[str, str], key: str = "task_id") -> str:
    return json.dumps([{key: down, "pid": up} for down, up in pairs])


ROWS = {
    "mwaa_task": [task("1", "extract"), task("2", "load"), task("3", "report")],
    "mwaa_job": [
        job("1", "1,2", name="orders", job_task_dependencies=_deps(("2", "1"))),
        job("2", "3", name="reports"),
    ],
    "mwaa_scheduler": [
        scheduler(
            "1",
            "1,2",
            name="nightly",
            schedule_job_dependencies=_deps(("2", "1"), key="job_id"),
        )
    ],
}


def test_mermaid_of_a_scheduler_nests_jobs_and_tasks_in_run_order() -> None:
    text = to_mermaid(diagram(_plan(ROWS, "schedule-nightly")))

    assert text == (
        "flowchart TD\n"
        '    n0(["schedule-nightly"])\n'
        '    n1["job-orders"]\n'
        '    n2("extract")\n'
        '    n3("load")\n'
        '    n4["job-reports"]\n'
        '    n5("report")\n'
        "    n0 -.-> n1\n"
        "    n1 -.-> n2\n"
        "    n1 -.-> n3\n"
        "    n0 -.-> n4\n"
        "    n4 -.-> n5\n"
        "    n2 --> n3\n"
        "    n1 --> n4\n"
    )


def test_dot_of_a_job_draws_its_tasks_and_their_order() -> None:
    text = to_dot(diagram(_plan(ROWS, "job-orders")))

    assert text == (
        'digraph "job-orders" {\n'
        "    node [fontname=Helvetica];\n"
        '    n0 [label="job-orders", shape=box];\n'
        '    n1 [label="extract", shape=box, style=rounded];\n'
        '    n2 [label="load", shape=box, style=rounded];\n'
        "    n0 -> n1 [style=dashed];\n"
        "    n0 -> n2 [style=dashed];\n"
        "    n1 -> n2;\n"
        "}\n"
    )


def test_the_output_does_not_depend_on_row_order() -> None:
    shuffled = {table: list(reversed(rows)) for table, rows in ROWS.items()}

    for render in (to_mermaid, to_dot):
        assert render(diagram(_plan(shuffled, "schedule-nightly"))) == render(
            diagram(_plan(ROWS, "schedule-nightly"))
        )


def test_a_hostile_task_name_stays_inside_its_mermaid_label() -> None:
    rows = {"mwaa_task": [task("1", HOSTILE)], "mwaa_job": [job("1", "1", name="j")]}

    text = to_mermaid(diagram(_plan(rows, "job-j")))

    lines = text.splitlines()
    assert len(lines) == 4  # header, two nodes, one edge: no injected line
    assert lines[2].startswith('    n1("task-1 #40;x#34;#93; --#62; evil#91;#34;pwned#10;end#13;')
    assert re.fullmatch(r'    n1\("[A-Za-z0-9 _.#;-]*"\)', lines[2])


def test_a_hostile_name_stays_inside_its_dot_string() -> None:
    node = Node("job", "job-x", "", display=HOSTILE, children=(Node("task", HOSTILE, ""),))

    text = to_dot(node)

    lines = text.splitlines()
    assert len(lines) == 6
    label = re.fullmatch(
        r'    n1 \[label="((?:[^"\\\n]|\\.)*)", shape=box, style=rounded\];', lines[3]
    )
    assert label is not None
    assert label.group(1) == 'x\\"] --> evil[\\"pwned\\nend\\\\u000d%% `<b>` \\\\ {}'


def test_escapes_are_total_and_leave_safe_text_alone() -> None:
    assert mermaid_text("job-orders_v1.2") == "job-orders_v1.2"
    assert mermaid_text('"') == "#34;" and mermaid_text("\u2028") == "#8232;"
    assert dot_text("job-orders") == "job-orders"
    assert dot_text('a"b\\c') == 'a\\"b\\\\c'
