"""The AWS SAM CLI on template.yaml, offline: `sam validate --lint` and `sam build`, then the built
package imported and used by a fresh CPython 3.12, as Lambda would.

The SAM CLI lives in its own virtualenv (`make sam-install`; its pins conflict with Airflow's).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bench.package_bench import load_build_package
from tests.infra.cfn import REPO_ROOT

build_package = load_build_package()

LAMBDA_LIMIT_BYTES = 250 * 1024 * 1024
NOT_SHIPPED = ("airflow", "typer", "rich", "moto", "pytest", "hypothesis", "ruff", "cfnlint")


@pytest.fixture(scope="module")
def sam() -> list[str]:
    """The sam command, installed into .venv-sam by the Makefile if it is not there yet."""
    subprocess.run(["make", "-s", "sam-install"], cwd=REPO_ROOT, check=True)
    return [str(REPO_ROOT / ".venv-sam" / "bin" / "sam")]


def run_sam(sam: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(
        [*sam, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def build_dir(sam: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("sam") / "build"
    result = run_sam(
        sam, "build", "--parallel", "--template-file", "template.yaml", "--build-dir", str(build)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return build


@pytest.fixture(scope="module")
def package(build_dir: Path) -> Path:
    return build_dir / "CompilerFunction"


def test_sam_validate_lint_passes(sam: list[str]) -> None:
    result = run_sam(sam, "validate", "--lint", "--region", "us-east-1", "-t", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_every_function_is_built_from_the_same_sources(build_dir: Path) -> None:
    def files(folder: Path) -> set[str]:
        return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}

    compiler = files(build_dir / "CompilerFunction")
    assert compiler == files(build_dir / "DeployHookFunction")
    assert compiler == files(build_dir / "FanoutWorkerFunction")
    built = (build_dir / "template.yaml").read_text()
    assert "CodeUri: CompilerFunction" in built


def test_package_holds_our_code_and_runtime_dependencies_only(package: Path) -> None:
    for path in (
        "lambda_compiler/handler.py",
        "lambda_compiler/deploy_hook.py",
        "lambda_compiler/rebuild.py",
        "dag_templates/job.py.j2",
        "lambda_compiler/task_types/sql.py.j2",
        "dags_runtime/__init__.py",
        "black/__init__.py",
        "jinja2/__init__.py",
        "pydantic/__init__.py",
        "aws_lambda_powertools/__init__.py",
        "aws_xray_sdk/__init__.py",
    ):
        assert (package / path).is_file(), path
    top_level = {p.name for p in package.iterdir()}
    assert not top_level & set(NOT_SHIPPED)
    assert not (package / "lambda_compiler" / "cli").exists()
    assert not (package / "lambda_compiler" / "local").exists()


def test_package_loads_on_both_lambda_cpus(package: Path) -> None:
    assert build_package.missing_extensions(package) == []
    core = package / "pydantic_core"
    assert (core / "_pydantic_core.cpython-312-x86_64-linux-gnu.so").is_file()
    assert (core / "_pydantic_core.cpython-312-aarch64-linux-gnu.so").is_file()


def test_package_fits_the_lambda_size_limit(package: Path) -> None:
    size = sum(p.stat().st_size for p in package.rglob("*") if p.is_file())
    assert size < LAMBDA_LIMIT_BYTES


def test_built_package_imports_the_handler_and_compiles_in_a_fresh_python_312(
    package: Path, tmp_path: Path
) -> None:
    python312 = build_package.find_python312()
    assert python312, "CPython 3.12 (Lambda's runtime) is needed to check the built package"
    rows = (REPO_ROOT / "examples" / "rows.json").read_text()
    script = f"""
import json, sys
sys.path.insert(0, {str(package)!r})
import lambda_compiler.handler as handler
import lambda_compiler.deploy_hook as deploy_hook
from lambda_compiler.compiler import compile_dags
from lambda_compiler.snapshot import snapshot_from_json
result = compile_dags(snapshot_from_json(json.loads(sys.stdin.read())))
print(json.dumps({{
    "handler": handler.__file__,
    "entry": callable(handler.lambda_handler) and callable(deploy_hook.handler),
    "dags": sorted(d for d, r in result.dags.items() if r.source),
}}))
"""
    # -S: no site-packages, so nothing but the package and the standard library is importable;
    # AWS_LAMBDA_FUNCTION_NAME makes Powertools behave as in Lambda (tracing on).
    env = {
        "PATH": os.environ["PATH"],
        "AWS_LAMBDA_FUNCTION_NAME": "dynadag-compiler",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "DYNADAG_BUCKET": "airflow-dags",
    }
    result = subprocess.run(
        [python312, "-S", "-c", script],
        input=rows,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["handler"].startswith(str(package))
    assert report["entry"] is True
    assert report["dags"], "the example rows compile to DAGs inside the package"
