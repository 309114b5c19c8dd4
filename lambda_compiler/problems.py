"""Problems found in rows: what is wrong, where (table, key, attribute) and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lambda_compiler.rows import RowRef


class ProblemCode(StrEnum):
    """The closed set of reasons a row can be rejected."""

    MALFORMED_JSON = "malformed-json"
    MISSING_ATTRIBUTE = "missing-attribute"
    WRONG_TYPE = "wrong-type"
    UNKNOWN_REFERENCE = "unknown-reference"
    DISABLED_REFERENCE = "disabled-reference"
    INVALID_REFERENCE = "invalid-reference"
    AMBIGUOUS_REFERENCE = "ambiguous-reference"
    SELF_DEPENDENCY = "self-dependency"
    DEPENDENCY_NOT_LISTED = "dependency-not-listed"
    CYCLE = "cycle"
    DUPLICATE_DAG_ID = "duplicate-dag-id"
    DUPLICATE_TASK_ID = "duplicate-task-id"
    INVALID_IDENTIFIER = "invalid-identifier"
    INVALID_SCHEDULE = "invalid-schedule"
    UNKNOWN_TASK_TYPE = "unknown-task-type"
    INVALID_TASK_PARAMS = "invalid-task-params"
    INVALID_PARAMS = "invalid-params"
    UNSAFE_OUTPUT = "unsafe-output"
    NOT_ALLOWED = "not-allowed"
    """The deployment's policy refuses the value; the message names the setting."""


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a row cannot be compiled; `str()` is the message users read."""

    ref: RowRef
    field: str
    code: ProblemCode
    message: str

    def __str__(self) -> str:
        return f"{self.ref}: {self.field}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready form for `--format json`, the registry and alerts."""
        return {
            "table": self.ref.table,
            "key": self.ref.key_text,
            "field": self.field,
            "code": str(self.code),
            "message": self.message,
        }
