"""What problem text may show of a row value: short excerpts, secrets replaced by ``***``.

Secret-looking means a key naming a password, secret, token, API or access key, private
key, webhook, credential or authorization (case-insensitive, in any spelling: ``dbPassword``,
``X-Api-Key``), either as a map key or as ``key=value`` / ``key: value`` inside text, and a
URI that carries a user and password (``scheme://user:pass@host``). A key ending in
``_arn``, ``_id`` or ``_name`` names a secret kept elsewhere (``secret_arn``) and is not one.

Every function here is linear in the text it reads: a 350 KB value costs no more than
reading it once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from lambda_compiler.limits import EXCERPT_CHARS

REDACTED = "***"

_SECRET_WORDS = (
    r"passw(?:or)?d|secret|token|api_?key|access_?key|private_?key|webhook|credential"
    r"|authori[sz]ation"
)
_SECRET_WORD = re.compile(_SECRET_WORDS, re.I)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_REFERENCE_SUFFIXES = ("_arn", "_id", "_name")

# `scheme://user:password@`; a password may hold '@', so the last '@' of the run ends it.
_CREDENTIAL_URI = re.compile(
    r"\b([a-z][a-z0-9+.\-]{0,30}://)[^\s/@:'\"]{0,256}:[^\s/'\"]{0,512}@", re.I
)
# `password=x`, `"api_key": "x"`, `Authorization: Bearer x`: group 1 is kept, group 2 hidden.
_KEY_VALUE = re.compile(
    rf"((?:{_SECRET_WORDS})[\w.\-]{{0,40}}[\"']?\s{{0,3}}[:=]\s{{0,3}}(?:(?:bearer|basic|token)\s+)?)"
    r"(\"[^\"]{0,2048}\"?|'[^']{0,2048}'?|[^\s,;&'\"(){}\[\]<>]{1,2048})",
    re.I,
)
# A cut token holding one of these may be the start of a secret whose end was cut off.
_CUT_RISK = frozenset(":=@")
_INNER_CHARS = 32
_MAX_LEVELS = 3


def is_secret_key(name: str) -> bool:
    """True when a map key names a secret value (``db_password``, ``apiKey``, ``Authorization``)."""
    words = _NOT_ALNUM.sub("_", _CAMEL_HUMP.sub("_", name).lower())
    if words.rstrip("_").endswith(_REFERENCE_SUFFIXES):
        return False
    return bool(_SECRET_WORD.search(words))


def has_credentials_uri(text: str) -> bool:
    """True when `text` holds a URI with a user and password (``postgres://u:p@host``)."""
    return "://" in text and _CREDENTIAL_URI.search(text) is not None


def redact(text: str) -> str:
    """`text` with credential URIs and ``secret_key=value`` values replaced by ``***``."""
    if "://" in text:
        text = _CREDENTIAL_URI.sub(rf"\g<1>{REDACTED}@", text)
    return _KEY_VALUE.sub(rf"\g<1>{REDACTED}", text)


def bounded(text: str, limit: int) -> str:
    """`text` redacted and cut to `limit` characters, saying how long it was."""
    if len(text) <= limit:
        return redact(text)
    suffix = f"… ({len(text):,} characters in all)"
    return redact(_cut(text, limit - len(suffix))) + suffix


def excerpt(value: Any) -> str:
    """A short, redacted quotation of a row value for problem text, whatever its type or size.

    Strings show at most `EXCERPT_CHARS` characters, then ``…`` and their length; maps show
    ``***`` for the values of secret-looking keys; binary data shows only its size.
    """
    if isinstance(value, str):
        return _quote(value, EXCERPT_CHARS, count=True)
    text = ""
    for piece in _pieces(value, 0):
        text += piece
        if len(text) > EXCERPT_CHARS:
            size = f" ({len(value):,} items)" if isinstance(value, (dict, list, tuple)) else ""
            return f"{text[:EXCERPT_CHARS]}…{size}"
    return text


def _quote(text: str, limit: int, *, count: bool) -> str:
    shown = _cut(text, limit)
    quoted = repr(redact(shown))
    if len(shown) == len(text):
        return quoted
    quoted = f"{quoted[:-1]}…{quoted[-1]}"
    return f"{quoted} ({len(text):,} characters)" if count else quoted


def _cut(text: str, limit: int) -> str:
    """The first `limit` characters, less a last partial word that could start a secret."""
    if len(text) <= limit:
        return text
    shown = text[:limit]
    start = max(shown.rfind(" "), shown.rfind("\n"), shown.rfind("\t")) + 1
    if _CUT_RISK.intersection(shown[start:]):
        shown = shown[:start]
    return shown


def _pieces(value: Any, level: int) -> Iterator[str]:
    """The text of a value, piece by piece, so a caller can stop early on a huge one."""
    if value is None or isinstance(value, (bool, float, Decimal)):
        yield str(value) if isinstance(value, Decimal) else repr(value)
    elif isinstance(value, int):
        yield _int_text(value)
    elif isinstance(value, str):
        yield _quote(value, _INNER_CHARS, count=False)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        yield f"<{value.nbytes if isinstance(value, memoryview) else len(value):,} bytes>"
    elif isinstance(value, (set, frozenset)):
        yield f"<a set of {len(value):,} items>"
    elif isinstance(value, (dict, list, tuple)) and level >= _MAX_LEVELS:
        yield "{…}" if isinstance(value, dict) else "[…]"
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ", " if index else ""
            yield from _pieces(key, level + 1)
            yield ": "
            if isinstance(key, str) and is_secret_key(key):
                yield repr(REDACTED)
            else:
                yield from _pieces(item, level + 1)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "["
        for index, item in enumerate(value):
            yield ", " if index else ""
            yield from _pieces(item, level + 1)
        yield "]"
    else:
        yield f"<{type(value).__name__}>"


def _int_text(number: int) -> str:
    """An int's digits, or its approximate size when it has too many to print."""
    if number.bit_length() <= 4 * EXCERPT_CHARS:
        return str(number)
    return f"<an integer of about {int(number.bit_length() * 0.30103) + 1:,} digits>"
