"""Dependency graphs of tasks in a job and of jobs in a scheduler, on stdlib `graphlib`.

Edges point from upstream to downstream: an `Edge(downstream="1", upstream="2")`
(the row's ``{"task_id": "1", "pid": "2"}``) means 2 runs before 1.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from graphlib import CycleError, TopologicalSorter

from lambda_compiler.model import Edge


def _sorter(nodes: Iterable[str], edges: Iterable[Edge]) -> TopologicalSorter[str]:
    """A sorter holding `nodes` and `edges`, each added in the order given."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for node in nodes:
        sorter.add(node)
    for edge in edges:
        sorter.add(edge.downstream, edge.upstream)
    return sorter


def find_cycle(nodes: Sequence[str], edges: Iterable[Edge]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]`` in run order, or None when acyclic.

    Nodes and each node's downstreams are added sorted, so graphlib's depth-first search
    finds the same cycle whatever the order of the rows.
    """
    edges = list(edges)
    every = set(nodes) | {end for edge in edges for end in (edge.upstream, edge.downstream)}
    by_downstream = sorted(edges, key=lambda edge: (edge.downstream, edge.upstream))
    try:
        _sorter(sorted(every), by_downstream).prepare()
    except CycleError as exc:
        return list(exc.args[1])
    return None


def topological_order(nodes: Sequence[str], edges: Iterable[Edge]) -> list[str]:
    """Nodes with every upstream first; ties keep the order of `nodes`. Needs no cycle."""
    position = {node: index for index, node in enumerate(nodes)}
    sorter = _sorter(nodes, set(edges))
    sorter.prepare()
    ready = [(position[node], node) for node in sorter.get_ready()]
    heapq.heapify(ready)
    order = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        sorter.done(node)
        for nxt in sorter.get_ready():
            heapq.heappush(ready, (position[nxt], nxt))
    return order
