"""dynadag's block inside the user's ``.airflowignore``: the user's lines are never touched.

dynadag needs one rule in the dags folder's ``.airflowignore`` (keep ``dags_runtime/`` out of
DAG parsing), but the file belongs to the user. dynadag therefore owns only the lines between
`BEGIN` and `END`; `merge_airflowignore` replaces (or appends) that block and keeps every
other byte as it was. It works on bytes, so a file in another encoding or with CRLF line
endings keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence

BEGIN = "# BEGIN dynadag (managed; do not edit this block)"
END = "# END dynadag"
RULES = ("dags_runtime/",)
"""The rules dynadag keeps in its block: the runtime is imported by DAGs, never parsed."""


def merge_airflowignore(current: bytes, rules: Sequence[str] = RULES) -> bytes:
    """`current` with dynadag's block holding exactly `rules`.

    The block replaces the first existing one (where the user put it); further blocks
    (pasted twice by hand) and stray `BEGIN`/`END` lines are dropped. A `BEGIN` without
    its `END` loses only that line, so no user line is ever dropped. Without a block,
    the block is appended after the user's lines. The block uses the file's line ending
    (CRLF when the file already has one).
    """
    newline = b"\r\n" if b"\r\n" in current else b"\n"
    block = b"".join(line.encode() + newline for line in (BEGIN, *rules, END))
    lines = current.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if _marker(line) == BEGIN]
    ends = [i for i, line in enumerate(lines) if _marker(line) == END]
    dropped: set[int] = set()
    placed_at: int | None = None
    for begin in begins:
        if begin in dropped:
            continue
        end = next((e for e in ends if e > begin), None)
        if end is None:
            dropped.add(begin)
            continue
        dropped.update(range(begin, end + 1))
        placed_at = begin if placed_at is None else placed_at
    dropped.update(ends)
    kept: list[bytes] = []
    for index, line in enumerate(lines):
        if index == placed_at:
            kept.append(block)
        if index not in dropped:
            kept.append(line)
    if placed_at is None:
        if kept and not kept[-1].endswith((b"\n", b"\r")):
            kept.append(newline)
        kept.append(block)
    return b"".join(kept)


def _marker(line: bytes) -> str | None:
    """The marker a line holds (whitespace and a UTF-8 byte-order mark ignored), if any."""
    text = line.removeprefix(b"\xef\xbb\xbf").strip()
    for marker in (BEGIN, END):
        if text == marker.encode():
            return marker
    return None
