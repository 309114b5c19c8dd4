"""The limits on row values and on problem text, in one place.

A row value over a limit is a `limit-exceeded` problem whose message names the limit, so
a writer can look it up here. The value limits follow DynamoDB's own where it has one
(nesting, number precision); the others keep one attribute from filling a DAG file and
keep every accepted value within what Python reads and writes without special cases.
"""

from __future__ import annotations

MAX_DEPTH = 32
"""Levels of maps and lists in one attribute (DynamoDB's own nesting limit)."""

MAX_VALUE_BYTES = 64 * 1024
"""UTF-8 bytes of one attribute: its text (JSON held in a string), or the strings and map
keys of a native map or list, summed."""

MAX_KEY_BYTES = 255
"""UTF-8 bytes of a key: a row key (`task_id`, `job_type`, `job_id`, `schedule_id`), an id
in a list or dependency, or a map key inside an attribute."""

MAX_NUMBER_DIGITS = 38
"""Digits of a number, significant or before the decimal point (DynamoDB's precision)."""

MAX_PROBLEMS_PER_ATTRIBUTE = 10
"""Problems reported for one attribute's values; a note says when more were found."""

EXCERPT_CHARS = 80
"""Characters of a rejected value that a problem message quotes."""

MAX_MESSAGE_CHARS = 480
"""Characters of a problem message (its reason), however long the value or library text."""

MAX_FIELD_CHARS = 160
"""Characters of a problem's attribute path."""

LIMITS = {
    "MAX_DEPTH": MAX_DEPTH,
    "MAX_VALUE_BYTES": MAX_VALUE_BYTES,
    "MAX_KEY_BYTES": MAX_KEY_BYTES,
    "MAX_NUMBER_DIGITS": MAX_NUMBER_DIGITS,
}
"""The value limits by name, as problem messages cite them."""


def over_limit(name: str, unit: str) -> str:
    """``over the limit of 32 levels (MAX_DEPTH)``: how a message names a value limit."""
    return f"over the limit of {LIMITS[name]:,} {unit} ({name})"
