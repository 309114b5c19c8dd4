"""Build the Lambda package: runtime dependencies for CPython 3.12 on both Lambda CPUs, our code.

`sam build` runs this through `infra/Makefile` (`BuildMethod: makefile`). It never uses the build
machine's Python packages: pip downloads wheels for CPython 3.12 with pinned platform tags, so the
result is the same on a Mac, on Windows (WSL) or in CI.

One package serves both `x86_64` and `arm64`: pure-Python files are shared, and each compiled
extension is present once per CPU (`foo.cpython-312-x86_64-linux-gnu.so` beside
`foo.cpython-312-aarch64-linux-gnu.so`). Python only loads the extension whose suffix matches its
own platform, so the template's `Architecture` parameter can change without a rebuild.
black has no compiled wheel for aarch64: on arm64 it runs from its pure-Python sources (shipped
in the x86_64 wheel too), which makes `format_str` slower; see bench/RESULTS.md.

Usage: python infra/build_package.py ARTIFACTS_DIR
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.12"
# The Lambda CPUs and the extension-module suffix each one's CPython 3.12 loads.
PLATFORMS = {
    "manylinux2014_x86_64": ".cpython-312-x86_64-linux-gnu.so",
    "manylinux2014_aarch64": ".cpython-312-aarch64-linux-gnu.so",
}
# Our packages, minus what only the developer CLI and the local stack use.
SOURCES = ("lambda_compiler", "dag_templates", "dags_runtime")
EXCLUDED = ("lambda_compiler/cli", "lambda_compiler/local", "lambda_compiler/demo.py")


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The `[project] dependencies` of pyproject.toml: what the function imports."""
    with pyproject.open("rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def pip_install(requirements: list[str], platform: str, target: Path) -> None:
    """Install wheels for CPython 3.12 on `platform` into `target`, pinned by constraints.txt."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--no-warn-conflicts",
            "--root-user-action=ignore",
            "--target",
            str(target),
            "--platform",
            platform,
            "--python-version",
            PYTHON_VERSION,
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--constraint",
            str(ROOT / "constraints.txt"),
            *requirements,
        ],
        check=True,
    )


def merge_missing(source: Path, destination: Path) -> None:
    """Copy every file of `source` that `destination` lacks (the other CPU's extensions)."""
    for path in sorted(source.rglob("*")):
        target = destination / path.relative_to(source)
        if path.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def missing_extensions(package: Path) -> list[str]:
    """Compiled modules that one CPU can load and the other can neither load nor replace."""
    problems = []
    for suffix in PLATFORMS.values():
        for extension in sorted(package.rglob(f"*{suffix}")):
            stem = extension.name.removesuffix(suffix)
            if stem.endswith("__mypyc"):
                continue  # mypyc's runtime, loaded only by the compiled modules beside it
            for other in PLATFORMS.values():
                sibling = extension.with_name(stem + other)
                if not sibling.exists() and not extension.with_name(stem + ".py").exists():
                    problems.append(f"{extension.relative_to(package)} has no {other} twin")
    return sorted(set(problems))


def copy_sources(destination: Path) -> None:
    """Copy our packages, without caches and the developer-only modules."""
    for name in SOURCES:
        shutil.copytree(
            ROOT / name,
            destination / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
    for relative in EXCLUDED:
        path = destination / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def find_python312() -> str | None:
    """A working CPython 3.12: $PYTHON312, python3.12 on PATH, or a pyenv-installed one."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [os.environ.get("PYTHON312"), shutil.which("python3.12")]
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.12*/bin/python3.12"))]
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"]
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return candidate
    return None


def precompile(package: Path) -> None:
    """Write CPython 3.12 bytecode beside the sources, when a CPython 3.12 is at hand.

    Lambda's code directory is read-only, so without it every cold start compiles every imported
    module again (see bench/RESULTS.md). `unchecked-hash` pycs stay valid whatever timestamps
    the zip round trip gives the sources.
    """
    python312 = find_python312()
    if python312 is None:
        print("build_package: no CPython 3.12 found; shipping sources only (slower cold start)")
        return
    subprocess.run(
        [python312, "-m", "compileall", "-q", "--invalidation-mode=unchecked-hash", str(package)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def build(artifacts: Path) -> None:
    """Fill `artifacts` with the function package."""
    artifacts.mkdir(parents=True, exist_ok=True)
    requirements = runtime_requirements()
    first, *others = PLATFORMS
    pip_install(requirements, first, artifacts)
    for platform in others:
        with tempfile.TemporaryDirectory() as scratch:
            pip_install(requirements, platform, Path(scratch))
            merge_missing(Path(scratch), artifacts)
    shutil.rmtree(artifacts / "bin", ignore_errors=True)  # console scripts (black, ...)
    problems = missing_extensions(artifacts)
    if problems:
        raise SystemExit("package would not load on both CPUs:\n" + "\n".join(problems))
    copy_sources(artifacts)
    precompile(artifacts)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]).resolve())
