"""CONTRIBUTING.md's architecture map names modules and tests that exist."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

CONTRIBUTING = REPO_ROOT / "CONTRIBUTING.md"


def _named_paths() -> set[str]:
    """Every `module.py`, `folder/` or `test_*.py` pattern the map names, as written."""
    return set(re.findall(r"`([\w/*]+(?:\.py|/))`", CONTRIBUTING.read_text(encoding="utf-8")))


def _exists(name: str) -> bool:
    """A path from the repository root, the package or tests/, or a test module anywhere."""
    roots = (REPO_ROOT, REPO_ROOT / "lambda_compiler", REPO_ROOT / "tests")
    if any(any(root.glob(name.rstrip("/"))) for root in roots):
        return True
    return name.startswith("test_") and any((REPO_ROOT / "tests").rglob(name))


def test_every_module_and_test_the_map_names_exists() -> None:
    named = _named_paths()
    assert len(named) > 40  # the map is read, not skipped
    assert not sorted(name for name in named if not _exists(name))


def test_the_questions_a_newcomer_asks_are_answered_by_one_module() -> None:
    text = CONTRIBUTING.read_text(encoding="utf-8")
    for question, module in [
        ("Which DAGs does a change affect?", "`affected.py`"),
        ("How does a row value become a literal?", "`literals.py`"),
        ("Where do I add one?", "`task_types/`"),
        ("What fails a record?", "`aws_errors.py`"),
        ("How does the local stack feed the handler?", "`local/streams.py`"),
    ]:
        line = next(line for line in text.splitlines() if question in line)
        assert module in line, question
