"""The second wall: an AST check that a generated file only imports and calls what we allow.

Row values reach files only as literals, so this check should never fire; it
exists so that a template bug cannot turn into code execution in Airflow.
"""

from __future__ import annotations

import ast

from lambda_compiler.config import module_under

ALLOWED_IMPORT_ROOTS = frozenset({"airflow", "pendulum", "datetime", "dags_runtime", "__future__"})
_ALLOWED_STATEMENTS = (ast.Import, ast.ImportFrom, ast.Assign, ast.With, ast.Expr)


class UnsafeSourceError(ValueError):
    """A generated file failed the import/call allowlist; the message lists each violation."""


def check_source(
    source: str, filename: str = "<generated>", import_prefixes: tuple[str, ...] = ()
) -> None:
    """Compile `source` and raise `UnsafeSourceError` unless it passes the allowlist.

    `import_prefixes` are the deployment's `PYTHON` module prefixes: ``from m import f``
    is also allowed when ``m`` is one of them or below one.
    """
    try:
        tree = ast.parse(source, filename)
        compile(tree, filename, "exec")
    except SyntaxError as exc:
        raise UnsafeSourceError(f"does not compile: {exc}") from None
    violations = _violations(tree, import_prefixes)
    if violations:
        raise UnsafeSourceError("; ".join(violations))


def _violations(tree: ast.Module, import_prefixes: tuple[str, ...]) -> list[str]:
    imported: set[str] = set()
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in ALLOWED_IMPORT_ROOTS:
                    problems.append(f"line {node.lineno}: import of {alias.name!r} is not allowed")
                imported.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            allowed = module.split(".")[0] in ALLOWED_IMPORT_ROOTS or module_under(
                module, import_prefixes
            )
            if node.level or not allowed:
                problems.append(f"line {node.lineno}: import from {module!r} is not allowed")
            imported.update(alias.asname or alias.name for alias in node.names)
    for statement in tree.body:
        problems.extend(_statement_violations(statement))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee_root(node.func) not in imported:
            problems.append(
                f"line {node.lineno}: call of {ast.unparse(node.func)!r} is not allowed"
            )
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            problems.append(f"line {node.lineno}: access to {node.attr!r} is not allowed")
        elif isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            problems.append(f"line {node.lineno}: definitions are not allowed")
    return problems


def _statement_violations(statement: ast.stmt) -> list[str]:
    if not isinstance(statement, _ALLOWED_STATEMENTS):
        return [f"line {statement.lineno}: {type(statement).__name__} statements are not allowed"]
    if isinstance(statement, ast.With):
        return [v for inner in statement.body for v in _statement_violations(inner)]
    return []


def _callee_root(func: ast.expr) -> str | None:
    while isinstance(func, ast.Attribute):
        func = func.value
    return func.id if isinstance(func, ast.Name) else None
