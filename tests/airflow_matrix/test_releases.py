"""DYNADAG_AIRFLOW_TARGETS selects the releases the matrix runs on, or is a clear error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.airflow_matrix.releases import DEFAULT_RELEASES, PINS, selected_releases
from tests.conftest import REPO_ROOT


def test_unset_selects_one_2x_and_two_3x_releases():
    assert selected_releases(None) == selected_releases(" ") == DEFAULT_RELEASES
    assert [v.split(".")[0] for v in DEFAULT_RELEASES] == ["2", "3", "3"]


def test_a_list_selects_those_releases_in_its_order():
    assert selected_releases("3.1.8, 2.10.3") == ("3.1.8", "2.10.3")


def test_all_selects_every_pinned_release_oldest_first():
    pinned = {path.stem for path in PINS.glob("*.txt")}
    if pinned:
        releases = selected_releases("all")
        assert set(releases) == pinned and releases[0].startswith("2.")
    else:
        with pytest.raises(ValueError, match="no pin sets in"):
            selected_releases("all")


@pytest.mark.parametrize(
    ("value", "words"),
    [("2.11", "not a release like 2.11.0"), ("1.10.15", "not a version dynadag compiles for")],
)
def test_a_release_dynadag_cannot_target_is_refused(value, words):
    with pytest.raises(ValueError, match=words):
        selected_releases(value)
    done = subprocess.run(
        [sys.executable, "-m", "tests.airflow_matrix.releases"],
        env={"DYNADAG_AIRFLOW_TARGETS": value, "PATH": ""},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and done.stderr.startswith("DYNADAG_AIRFLOW_TARGETS: ")
