"""A change in the bytes of generated files comes with a new version and a CHANGELOG entry.

The header of every file names the compiler version, so a file in S3 says which compiler
wrote it; that only holds if two versions never write different bytes under one number.
`tests/golden/fingerprints.json` keeps, per version, a sha256 per Airflow target over every
DAG file the examples compile to. After a change to the output: bump the version, add a
CHANGELOG entry, then regenerate with

    PYTHONPATH=$PWD .venv/bin/python -m tests.unit.test_output_fingerprint
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib

from lambda_compiler import __version__
from lambda_compiler.compiler import compile_dags
from lambda_compiler.config import CompilerConfig
from lambda_compiler.rows_file import load_snapshot
from lambda_compiler.targets import TARGETS
from tests.conftest import EXAMPLE_OPT_INS, REPO_ROOT

GOLDEN = REPO_ROOT / "tests" / "golden" / "fingerprints.json"
REGENERATE = "PYTHONPATH=$PWD .venv/bin/python -m tests.unit.test_output_fingerprint"


def fingerprints() -> dict[str, str]:
    """Per target release: the sha256 of every example's DAG files (name, then bytes)."""
    found = {}
    for version in TARGETS:
        config = CompilerConfig.from_env({**EXAMPLE_OPT_INS, "DYNADAG_AIRFLOW_VERSION": version})
        digest = hashlib.sha256()
        for example in sorted((REPO_ROOT / "examples").glob("*.json")):
            for dag_id, dag in sorted(
                compile_dags(load_snapshot(example), config=config).dags.items()
            ):
                if dag.source is not None:
                    digest.update(f"\0{example.name}/{dag_id}.py\0".encode() + dag.source.encode())
        found[version] = digest.hexdigest()
    return found


def test_generated_bytes_change_only_with_the_version():
    recorded = json.loads(GOLDEN.read_text()).get(__version__)
    assert recorded is not None, (
        f"no fingerprint for version {__version__}: add its CHANGELOG entry, then run {REGENERATE}"
    )
    assert fingerprints() == recorded, (
        f"the examples compile to different bytes than version {__version__} wrote: bump the "
        "version (pyproject.toml and lambda_compiler/__init__.py), say what changed in "
        f"CHANGELOG.md, then run {REGENERATE}"
    )


def test_the_version_is_one_number_with_a_changelog_entry():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(__version__)}\b", changelog, re.MULTILINE), (
        f"CHANGELOG.md has no '## {__version__}' section"
    )


def _regenerate() -> None:
    """Record this version's fingerprints; a released version's are never rewritten."""
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    current = fingerprints()
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    unreleased = f"## {__version__} (unreleased)" in changelog
    if golden.get(__version__, current) != current and not unreleased:
        sys.exit(
            f"error: version {__version__} is released and wrote other bytes: bump the version"
        )
    golden[__version__] = current
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(golden, indent=2, sort_keys=True) + "\n")
    print(
        f"{GOLDEN.relative_to(REPO_ROOT)}: fingerprints of version {__version__}", file=sys.stderr
    )


if __name__ == "__main__":
    _regenerate()
