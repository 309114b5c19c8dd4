"""Dependency graphs of tasks in a job and of jobs in a scheduler.

Edges point from upstream to downstream: an `Edge(downstream="1", upstream="2")`
(the row's ``{"task_id": "1", "pid": "2"}``) means 2 runs before 1.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

from lambda_compiler.model import Edge


def find_cycle(nodes: Sequence[str], edges: Iterable[Edge]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]`` in run order, or None when acyclic."""
    downstream: dict[str, list[str]] = {node: [] for node in nodes}
    for edge in edges:
        downstream.setdefault(edge.upstream, []).append(edge.downstream)
    for targets in downstream.values():
        targets.sort()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    # Depth-first without recursion: a chain of thousands of tasks is a valid job.
    for root in sorted(downstream):
        if root in state:
            continue
        state[root] = 1
        path = [root]
        pending = [iter(downstream[root])]
        while pending:
            for nxt in pending[-1]:
                if state.get(nxt) == 1:
                    return [*path[path.index(nxt) :], nxt]
                if nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    pending.append(iter(downstream.get(nxt, ())))
                    break
            else:
                state[path.pop()] = 2
                pending.pop()
    return None


def topological_order(nodes: Sequence[str], edges: Iterable[Edge]) -> list[str]:
    """Nodes with every upstream first; ties keep the order of `nodes`. Needs no cycle."""
    position = {node: index for index, node in enumerate(nodes)}
    waiting = dict.fromkeys(nodes, 0)
    downstream: dict[str, list[str]] = {node: [] for node in nodes}
    for edge in set(edges):
        downstream[edge.upstream].append(edge.downstream)
        waiting[edge.downstream] += 1
    ready = [(position[node], node) for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for nxt in downstream[node]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, (position[nxt], nxt))
    return order
