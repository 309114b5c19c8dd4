"""Which Airflow releases the matrix tests run on, from ``DYNADAG_AIRFLOW_TARGETS``.

- unset or empty: `DEFAULT_RELEASES`, one 2.x and two 3.x (what `make test` runs);
- ``all``: every release with a pin set in ``infra/airflow-targets/`` (`make test-airflow-matrix`);
- a comma-separated list of versions, e.g. ``2.10.3,3.1.8``.

``python -m tests.airflow_matrix.releases`` prints the selection, one version a line, so
the Makefile builds exactly the virtualenvs the tests will use.
"""

from __future__ import annotations

import os
from pathlib import Path

from lambda_compiler.targets import target_for

VARIABLE = "DYNADAG_AIRFLOW_TARGETS"
DEFAULT_RELEASES = ("2.11.0", "3.0.6", "3.3.2")
PINS = Path(__file__).resolve().parents[2] / "infra" / "airflow-targets"


def selected_releases(value: str | None) -> tuple[str, ...]:
    """The releases `value` (the variable's value) selects; ValueError names a bad one."""
    value = (value or "").strip()
    if not value:
        return DEFAULT_RELEASES
    if value == "all":
        releases = tuple(sorted((p.stem for p in PINS.glob("*.txt")), key=_version_key))
        if not releases:
            raise ValueError(f"'all': there are no pin sets in {PINS}")
        return releases
    releases = tuple(v.strip() for v in value.split(",") if v.strip())
    for version in releases:
        if len(version.split(".")) != 3:
            raise ValueError(f"{version!r} is not a release like 2.11.0")
        target_for(version)  # raises TargetError (a ValueError) for a release dynadag lacks
    return releases


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


if __name__ == "__main__":
    try:
        print("\n".join(selected_releases(os.environ.get(VARIABLE))))
    except ValueError as exc:
        raise SystemExit(f"{VARIABLE}: {exc}") from None
