"""Cycles and run order of dependency graphs (`graph.py`, on stdlib graphlib)."""

from __future__ import annotations

import itertools
import random

from hypothesis import assume, given
from hypothesis import strategies as st

from lambda_compiler.graph import find_cycle, topological_order
from lambda_compiler.model import Edge

_names = st.sampled_from([str(n) for n in range(8)])
_graphs = st.tuples(
    st.lists(_names, min_size=1, unique=True),
    st.lists(st.tuples(_names, _names).filter(lambda pair: pair[0] != pair[1]), max_size=12),
).map(lambda g: (g[0], [Edge(downstream=d, upstream=u) for d, u in g[1] if {d, u} <= set(g[0])]))


def test_a_cycle_is_named_in_run_order_from_its_first_node() -> None:
    edges = [Edge("b", "a"), Edge("c", "b"), Edge("a", "c"), Edge("d", "a")]
    assert find_cycle(["a", "b", "c", "d"], edges) == ["a", "b", "c", "a"]


def test_an_acyclic_graph_has_no_cycle() -> None:
    assert find_cycle(["a", "b", "c"], [Edge("b", "a"), Edge("c", "a"), Edge("c", "b")]) is None


@given(_graphs, st.randoms())
def test_the_cycle_named_does_not_depend_on_row_order(graph, rnd: random.Random) -> None:
    nodes, edges = graph
    found = find_cycle(nodes, edges)
    shuffled_nodes, shuffled_edges = list(nodes), list(edges)
    rnd.shuffle(shuffled_nodes)
    rnd.shuffle(shuffled_edges)
    assert find_cycle(shuffled_nodes, shuffled_edges) == found
    if found is not None:
        assert found[0] == found[-1] and len(set(found)) == len(found) - 1
        assert all(Edge(after, before) in edges for before, after in itertools.pairwise(found))


@given(_graphs)
def test_run_order_puts_every_upstream_first(graph) -> None:
    nodes, edges = graph
    assume(find_cycle(nodes, edges) is None)
    order = topological_order(nodes, edges)
    assert sorted(order) == sorted(nodes)
    assert all(order.index(e.upstream) < order.index(e.downstream) for e in edges)


def test_run_order_breaks_ties_by_list_order() -> None:
    # c and b wait for a; among the ready ones the listed order wins, not the name.
    edges = [Edge("c", "a"), Edge("b", "a")]
    assert topological_order(["d", "c", "a", "b"], edges) == ["d", "a", "c", "b"]
    assert topological_order(["a", "b", "c"], [Edge("a", "c")]) == ["b", "c", "a"]
