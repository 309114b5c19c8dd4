"""What happened to a DAG: the one outcome vocabulary of builds, the registry and reports."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """A DAG's outcome (a `str`, so it compares equal to, and stores as, its value)."""

    WRITTEN = "written"
    """Its bytes changed and the new file was put."""
    UNCHANGED = "unchanged"
    """The file in S3 already held these bytes (or nothing was there to delete)."""
    DELETED = "deleted"
    """No row produces it any more; its file was deleted."""
    INVALID = "invalid"
    """Its rows have problems; the last good file stays."""
    ERROR = "error"
    """Building or publishing it failed; the last good file stays."""
    PINNED = "pinned"
    """A rollback pins its file; its rows were compiled and recorded only."""
    ROLLED_BACK = "rolled-back"
    """Recorded by `dynadag rollback` (never by a build)."""
