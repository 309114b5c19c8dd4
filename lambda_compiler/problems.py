"""Problems found in rows: what is wrong, where (table, key, attribute) and why.

A problem is bounded and redacted when it is made: its message and attribute path are cut
to `MAX_MESSAGE_CHARS` / `MAX_FIELD_CHARS` and pass through `redact`, so every consumer
(CLI, registry, alerts, logs) gets short text without secrets, whoever built the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from lambda_compiler.limits import MAX_FIELD_CHARS, MAX_MESSAGE_CHARS
from lambda_compiler.redact import bounded

if TYPE_CHECKING:
    from lambda_compiler.rows import RowRef


class ProblemCode(StrEnum):
    """The closed set of reasons a row can be rejected."""

    MALFORMED_JSON = "malformed-json"
    MISSING_ATTRIBUTE = "missing-attribute"
    WRONG_TYPE = "wrong-type"
    LIMIT_EXCEEDED = "limit-exceeded"
    SECRET_IN_ROW = "secret-in-row"
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
    UNSUPPORTED_ON_TARGET = "unsupported-on-target"
    FOREIGN_FILE = "foreign-file"
    NOT_ALLOWED = "not-allowed"
    """The deployment's policy refuses the value; the message names the setting."""


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a row cannot be compiled; `str()` is the message users read."""

    ref: RowRef
    field: str
    code: ProblemCode
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", bounded(self.field, MAX_FIELD_CHARS))
        object.__setattr__(self, "message", bounded(self.message, MAX_MESSAGE_CHARS))

    def __str__(self) -> str:
        where = f"{self.ref.table}[{self.ref.brief_key_text}]"
        return f"{where}: {self.field}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready form for `--format json`, the registry and alerts."""
        return {
            "table": self.ref.table,
            "key": self.ref.brief_key_text,
            "field": self.field,
            "code": str(self.code),
            "message": self.message,
        }


_PROBLEM_TEXT = re.compile(
    r"^(?P<table>[^\[\s]+)\[(?P<key>.*?)\]: (?P<field>[^:]*): "
    r"(?P<message>.*) \[(?P<code>[a-z-]+)\]$",
    re.DOTALL,
)


def problem_dict(text: str) -> dict[str, str | None]:
    """The `Problem.to_dict()` shape of a problem stored as text (`str(Problem)`, as the
    registry keeps it); text of another form is all `message`, the other keys None."""
    match = _PROBLEM_TEXT.match(text)
    if match is None:
        return {"table": None, "key": None, "field": None, "code": None, "message": text}
    return {name: match[name] for name in ("table", "key", "field", "code", "message")}
