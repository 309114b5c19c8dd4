"""Limits, in one place: on what rows may hold, and on what dynadag stores and sends.

Row values: a value over a limit is a `limit-exceeded` problem whose message names the
limit, so a writer can look it up here. The value limits follow DynamoDB's own where it
has one (nesting, number precision, key size); the others keep one attribute from
filling a DAG file and keep every accepted value within what Python reads and writes
without special cases.

What dynadag stores and sends: problems and errors can quote row values, and a row may
hold up to 400 KB, so the registry and the alerts bound what they write: DynamoDB items
stay under 400 KB and keys under 2,048 bytes (partition) and 1,024 bytes (sort), and an
SNS message under 256 KB. Cutting always says so in the text; a key too long to store is
replaced by a readable head and the sha256 of the whole, which is deterministic and unique.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

PARTITION_KEY_BYTES = 2048
SORT_KEY_BYTES = 1024
PROBLEMS_STORED = 50
"""At most this many problems are stored per DAG; a last entry counts the rest."""
PROBLEM_BYTES = 2000
TEXT_BYTES = 4000
"""An error message or a stored list entry other than a problem."""
LIST_BYTES = 100_000
"""At most this many bytes of problems, or of source rows, per registry item."""

_KEY_HEAD_BYTES = 200
_HASHED = re.compile(r"#sha256=[0-9a-f]{64}\Z")


def utf8_size(text: str) -> int:
    """The size of `text` in UTF-8 bytes (how AWS measures its limits)."""
    return len(text.encode())


def clip(text: str, max_bytes: int) -> str:
    """`text` when it fits in `max_bytes` UTF-8 bytes, else its head and a note of the cut."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    note = f" ... [cut: {len(data)} bytes in all]"
    head = data[: max(max_bytes - utf8_size(note), 0)].decode("utf-8", "ignore")
    return head + note


def clip_list(
    items: Sequence[str],
    what: str,
    *,
    max_items: int,
    item_bytes: int,
    total_bytes: int = LIST_BYTES,
) -> tuple[str, ...]:
    """The first `items`, each clipped, within the count and total size given.

    When some are left out, a last entry says how many ``{what}`` were omitted.
    """
    kept: list[str] = []
    used = 0
    for item in items:
        text = clip(item, item_bytes)
        if len(kept) == max_items or used + utf8_size(text) > total_bytes:
            break
        kept.append(text)
        used += utf8_size(text)
    if len(kept) < len(items):
        kept.append(f"... and {len(items) - len(kept)} more {what} omitted")
    return tuple(kept)


def bounded_problems(problems: Sequence[str]) -> tuple[str, ...]:
    """The problems as the registry stores them (and as alerts compare them)."""
    return clip_list(problems, "problems", max_items=PROBLEMS_STORED, item_bytes=PROBLEM_BYTES)


def bounded_key(text: str, max_bytes: int) -> str:
    """`text` when it fits a DynamoDB key of `max_bytes`; else a head and its sha256.

    A text that already ends like a hashed key is hashed too, so a stored text never
    stands for two different texts.
    """
    data = text.encode()
    if len(data) <= max_bytes and not _HASHED.search(text):
        return text
    head = data[:_KEY_HEAD_BYTES].decode("utf-8", "ignore")
    return f"{head}#sha256={hashlib.sha256(data).hexdigest()}"


MAX_DEPTH = 32
"""Levels of maps and lists in one attribute (DynamoDB's own nesting limit)."""

MAX_VALUE_BYTES = 64 * 1024
"""UTF-8 bytes of one attribute: its text (JSON held in a string), or the strings and map
keys of a native map or list, summed."""

MAX_KEY_BYTES = 2048
"""UTF-8 bytes of a key: a row key (`task_id`, `job_type`, `job_id`, `schedule_id`), an id
in a list or dependency, or a map key inside an attribute. DynamoDB's partition-key limit
(it holds a `job_id`, a sort key, to 1,024 itself)."""

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


METADATA_LIMIT = 2048
"""Bytes of user-defined metadata S3 keeps on an object (keys and values)."""
