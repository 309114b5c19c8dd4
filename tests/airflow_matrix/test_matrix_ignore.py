"""dynadag's block in the dags folder's ``.airflowignore`` keeps the runtime out of DAG
parsing on every release, under both ignore-file syntaxes, and is valid in both (no
"Ignoring invalid regex" warning)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lambda_compiler.airflowignore import merge_airflowignore
from lambda_compiler.rebuild import RUNTIME_FOLDER, default_runtime_dir
from tests.airflow_matrix.conftest import VENVS, Release, TargetAirflow

pytestmark = pytest.mark.airflow_matrix

PROBE = Path(__file__).with_name("ignore_probe.py")
SYNTAXES = ("regexp", "glob")  # 2.x's default, 3.x's default


def listed_by_airflow(target: TargetAirflow, syntax: str) -> tuple[list[str], str]:
    """The .py files the release would parse in its dags folder, and what it logged."""
    target.env["AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX"] = syntax
    out = target.home / f"listed-{syntax}.json"
    logged_before = len(target.output())
    target.python(str(PROBE), str(target.dags), str(out))
    return json.loads(out.read_text(encoding="utf-8")), target.output()[logged_before:]


def deployed_folder(airflow_release: str, home: Path, ignore: bytes) -> TargetAirflow:
    """A dags folder as a deploy lays it out (one DAG file, the runtime's modules), with
    `ignore` as its .airflowignore."""
    venv = VENVS / airflow_release
    if not (venv / "bin" / "python").exists():
        pytest.fail(f"Airflow {airflow_release} is not installed in {venv}")
    # No metadata database: listing the dags folder does not touch it.
    target = TargetAirflow(Release(airflow_release, venv, home / "airflow.db"), home)
    runtime = target.dags / RUNTIME_FOLDER.rstrip("/")
    runtime.mkdir()
    for module in sorted(default_runtime_dir().glob("*.py")):
        shutil.copyfile(module, runtime / module.name)
    (target.dags / ".airflowignore").write_bytes(ignore)
    (target.dags / "job-a.py").write_text("# airflow dag\n", encoding="utf-8")
    return target


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_dynadags_block_hides_the_runtime_and_is_valid(
    airflow_release: str, syntax: str, tmp_path: Path
) -> None:
    ignore = merge_airflowignore(b"# the user's own rules\nscratch/\n")
    target = deployed_folder(airflow_release, tmp_path, ignore)

    listed, logged = listed_by_airflow(target, syntax)

    assert listed == ["job-a.py"]
    assert "invalid" not in logged.lower()


def test_without_the_block_the_runtime_would_be_parsed(
    airflow_release: str, tmp_path: Path
) -> None:
    # The control: the probe does see the runtime when nothing hides it.
    target = deployed_folder(airflow_release, tmp_path, b"# the user's own rules\n")
    listed, _ = listed_by_airflow(target, "regexp")
    assert "job-a.py" in listed and any(p.startswith("dags_runtime/") for p in listed)
