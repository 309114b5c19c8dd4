"""Freezing a warm container's objects: in Lambda only, once per process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from lambda_compiler.warm_container import freeze_after_warm_up


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    freeze_after_warm_up.cache_clear()
    yield
    gc.unfreeze()
    freeze_after_warm_up.cache_clear()


def test_outside_lambda_the_collector_is_left_alone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    before = gc.get_freeze_count()
    assert freeze_after_warm_up() is False
    assert gc.get_freeze_count() == before


def test_in_lambda_everything_alive_is_frozen_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "dynadag-compiler")
    assert freeze_after_warm_up() is True
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # this process's modules and their objects
    later = [{"made": "after the warm-up"} for _ in range(100)]
    assert freeze_after_warm_up() is True
    assert gc.get_freeze_count() <= frozen, "a second call froze the newer objects too"
    assert later
