"""A long-lived container renders thousands of DAGs: black's caches must not keep them all."""

from __future__ import annotations

from black import Mode
from black.comments import list_comments

from lambda_compiler.compiler import compile_dags
from lambda_compiler.render import BLACK_COMMENT_CACHE_LIMIT
from lambda_compiler.rows_file import load_snapshot
from tests.conftest import EXAMPLE_ROWS


def test_rendering_keeps_blacks_comment_cache_bounded():
    # As if the container had already formatted a thousand DAGs, each header its own entry.
    for n in range(1_000):
        list_comments(f"# header of dag_{n:04d}\n", is_endmarker=False, mode=Mode())
    assert list_comments.cache_info().currsize >= 1_000

    before = compile_dags(load_snapshot(EXAMPLE_ROWS))

    assert list_comments.cache_info().currsize <= BLACK_COMMENT_CACHE_LIMIT
    after = compile_dags(load_snapshot(EXAMPLE_ROWS))
    assert {d: f.source for d, f in after.dags.items()} == {
        d: f.source for d, f in before.dags.items()
    }
