"""``python -m lambda_compiler.task_types [--docs docs/task-types.md]``: print or write the docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lambda_compiler.generated import write
from lambda_compiler.task_types._docs import docs_with_types, types_markdown


def main(argv: list[str] | None = None) -> int:
    """Print the task types' docs, or rewrite their blocks in a page (``--docs PATH``)."""
    parser = argparse.ArgumentParser(
        prog="python -m lambda_compiler.task_types", description=main.__doc__
    )
    parser.add_argument("--docs", type=Path, help="rewrite the generated blocks of this page")
    args = parser.parse_args(argv)
    if args.docs is None:
        sys.stdout.write(types_markdown())
    else:
        write(args.docs, docs_with_types)
    return 0


if __name__ == "__main__":
    sys.exit(main())
