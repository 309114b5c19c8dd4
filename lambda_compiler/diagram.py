"""A DAG's plan as a diagram: scheduler → jobs → tasks, as Mermaid or Graphviz DOT text.

Pure. `diagram` turns a plan (`validate.py`) into a tree of `Node`s whose children are
in run order, each naming the siblings it runs after. The text renderers are
deterministic (nodes numbered in tree order) and treat every label as untrusted: a
row's name reaches Mermaid only as entity codes (``#34;``) outside a small safe
alphabet, and DOT only inside a double-quoted string with ``"``, ``\\`` and control
characters escaped, so no name can end a label, add a node or an edge.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lambda_compiler.model import Edge
from lambda_compiler.validate import JobPlan, Plan, SchedulerPlan

NodeKind = Literal["scheduler", "job", "task"]


@dataclass(frozen=True)
class Node:
    """One box: a scheduler or job DAG (`label` is its DAG id), or a task (its Airflow id).

    `display` is the row's name when the id fell back to the key; `after` names the
    siblings it runs after.
    """

    kind: NodeKind
    label: str
    detail: str
    display: str | None = None
    after: tuple[str, ...] = ()
    children: tuple[Node, ...] = ()

    @property
    def title(self) -> str:
        return self.label if self.display is None else f"{self.label} ({self.display})"


def diagram(plan: Plan) -> Node:
    """The tree of a scheduler DAG (its jobs and their tasks) or of a job DAG (its tasks)."""
    if isinstance(plan, SchedulerPlan):
        schedule = f", schedule {plan.schedule}" if plan.schedule else ""
        listed = {job.dag_id: job.dag_id for job in plan.jobs}
        children = tuple(
            _job_node(job, _upstream(job.dag_id, plan.edges, listed)) for job in plan.jobs
        )
        detail = f"{plan.scheduler.ref}{schedule}"
        return Node("scheduler", plan.dag_id, detail, plan.display_name, (), children)
    return _job_node(plan, ())


def _job_node(plan: JobPlan, after: tuple[str, ...]) -> Node:
    ids = plan.task_ids
    tasks = []
    for task in plan.tasks:
        upstream = _upstream(task.task_id, plan.job.edges, ids)
        display = plan.display_names.get(task.task_id)
        detail = f"{task.task_type}, {task.ref}"
        tasks.append(Node("task", ids[task.task_id], detail, display, upstream))
    return Node("job", plan.dag_id, str(plan.job.ref), plan.display_name, after, tuple(tasks))


def _upstream(downstream: str, edges: Iterable[Edge], names: Mapping[Any, str]) -> tuple[str, ...]:
    """The `names` of what `downstream` runs after (ends not in `names` are left out).

    `names` is keyed by DAG ids or by task ids (both `str` at run time).
    """
    return tuple(
        sorted(
            {names[e.upstream] for e in edges if e.downstream == downstream and e.upstream in names}
        )
    )


_Pairs = list[tuple[str, str]]


def _edges(root: Node) -> tuple[list[tuple[str, Node]], _Pairs, _Pairs]:
    """Nodes numbered n0, n1, ... in tree order; (parent, child) and (upstream, downstream)."""
    nodes: list[tuple[str, Node]] = []
    contains: _Pairs = []
    before: _Pairs = []

    def walk(node: Node, parent: str | None) -> str:
        key = f"n{len(nodes)}"
        nodes.append((key, node))
        if parent is not None:
            contains.append((parent, key))
        keys = [walk(child, key) for child in node.children]
        by_label = {child.label: k for child, k in zip(node.children, keys, strict=True)}
        for child, k in zip(node.children, keys, strict=True):
            before.extend((by_label[up], k) for up in child.after if up in by_label)
        return key

    walk(root, None)
    return nodes, contains, before


_MERMAID_SAFE = frozenset(string.ascii_letters + string.digits + " _.-")
_MERMAID_SHAPES = {"scheduler": ('(["', '"])'), "job": ('["', '"]'), "task": ('("', '")')}


def mermaid_text(text: str) -> str:
    """`text` for a quoted Mermaid label: anything outside ``[A-Za-z0-9 _.-]`` as ``#NN;``."""
    return "".join(c if c in _MERMAID_SAFE else f"#{ord(c)};" for c in text)


def to_mermaid(root: Node) -> str:
    """A Mermaid flowchart: dotted arrows from a DAG to what it contains, solid for run order."""
    nodes, contains, before = _edges(root)
    lines = ["flowchart TD"]
    for key, node in nodes:
        opening, closing = _MERMAID_SHAPES[node.kind]
        lines.append(f"    {key}{opening}{mermaid_text(node.title)}{closing}")
    lines.extend(f"    {parent} -.-> {child}" for parent, child in contains)
    lines.extend(f"    {up} --> {down}" for up, down in before)
    return "\n".join(lines) + "\n"


def dot_text(text: str) -> str:
    """`text` for inside a DOT double-quoted string: ``"`` and ``\\`` escaped, newlines as
    ``\\n``, other control characters shown as ``\\uXXXX`` text."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif unicodedata.category(char).startswith("C"):
            out.append(f"\\\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


_DOT_SHAPES = {"scheduler": "oval", "job": "box", "task": "box, style=rounded"}


def to_dot(root: Node) -> str:
    """A Graphviz digraph: dashed edges from a DAG to what it contains, solid for run order."""
    nodes, contains, before = _edges(root)
    lines = [f'digraph "{dot_text(root.label)}" {{', "    node [fontname=Helvetica];"]
    for key, node in nodes:
        label = dot_text(node.title)
        lines.append(f'    {key} [label="{label}", shape={_DOT_SHAPES[node.kind]}];')
    lines.extend(f"    {parent} -> {child} [style=dashed];" for parent, child in contains)
    lines.extend(f"    {up} -> {down};" for up, down in before)
    lines.append("}")
    return "\n".join(lines) + "\n"


def plain_text(text: str) -> str:
    """`text` on one terminal line: control characters shown as ``\\uXXXX``."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c).startswith("C") else c for c in text
    )
