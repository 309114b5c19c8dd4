"""`make demo` until the local stack exists: compile the example rows offline and show one DAG."""

from __future__ import annotations

from pathlib import Path

from lambda_compiler.compiler import compile_dags
from lambda_compiler.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Compile `examples/rows.json` into `.dynadag/dags/` and print one job DAG."""
    out = ROOT / ".dynadag" / "dags"
    out.mkdir(parents=True, exist_ok=True)
    result = compile_dags(load_snapshot(ROOT / "examples" / "rows.json"))
    for dag_id, dag in result.dags.items():
        if dag.source:
            (out / f"{dag_id}.py").write_text(dag.source, encoding="utf-8")
            print(f"wrote {out / f'{dag_id}.py'}")
    for problem in result.problems:
        print(f"problem: {problem}")
    shown = next(dag for dag in result.dags.values() if dag.kind == "job" and dag.source)
    print(f"\n--- {shown.dag_id}.py ---\n{shown.source}")


if __name__ == "__main__":
    main()
