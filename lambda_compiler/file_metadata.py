"""What a generated file carries in S3: its fingerprint and its user metadata.

Pure (no boto3): `publish.DagPublisher` writes what `dag_metadata` and `text_metadata`
encode, the compiler and the registry keep the same `sha256_hex`, and the CLI reads it
back with `decode_source_rows`. Each DAG file's metadata:

- `sha256`: hex sha256 of the body. It is compared before every put, so an unchanged
  DAG is never re-uploaded and every S3 version is a real change;
- `compiler-version`: the dynadag version that wrote it;
- `dag-id`: the DAG id;
- `source-row-count`: how many rows the DAG was compiled from;
- `source-rows`: those rows, compactly, ``{table}({key names})={values},...;...``
  with each value percent-encoded (ASCII), e.g.
  ``mwaa_job(job_type,job_id)=etl/7;mwaa_task(task_id)=1,2``;
- `rolled-back-from`: on a copy `dynadag rollback` made, the version id it restored.

S3 allows 2 KB of user metadata in total. When `source-rows` would not fit (a job
with very many tasks) it is left out; `source-row-count` stays, and the full list
is always in the registry item and in the file's own header.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from itertools import groupby
from urllib.parse import quote, unquote

from lambda_compiler import __version__
from lambda_compiler.limits import METADATA_LIMIT
from lambda_compiler.model import DagId
from lambda_compiler.rows import RowRef

SOURCE_ROWS = "source-rows"
ROLLED_BACK_FROM = "rolled-back-from"
"""Metadata of a copy `dynadag rollback` made: the version id it restored."""
_SOURCE_GROUP = re.compile(r"^(?P<table>[^(]+)\((?P<names>[^)]*)\)=(?P<values>.*)$")


def sha256_hex(body: bytes) -> str:
    """The hex sha256 of a file's bytes, as kept in S3 metadata and the registry."""
    return hashlib.sha256(body).hexdigest()


def encode_source_rows(refs: Sequence[RowRef]) -> str:
    """``mwaa_job(job_type,job_id)=etl/7;mwaa_task(task_id)=1,2`` (ASCII, reversible)."""
    groups = []
    ordered = sorted(refs)
    for (table, names), members in groupby(
        ordered, key=lambda r: (r.table, tuple(n for n, _ in r.key))
    ):
        values = ",".join("/".join(quote(v, safe="") for _, v in ref.key) for ref in members)
        groups.append(f"{quote(table, safe='')}({','.join(names)})={values}")
    return ";".join(groups)


def decode_source_rows(encoded: str) -> list[RowRef] | None:
    """The rows `encode_source_rows` wrote, in its order; None when `encoded` is not its form."""
    refs = []
    for group in encoded.split(";"):
        match = _SOURCE_GROUP.match(group)
        if match is None:
            return None
        names = match["names"].split(",")
        for value in match["values"].split(","):
            parts = [unquote(part) for part in value.split("/")]
            refs.append(RowRef(unquote(match["table"]), tuple(zip(names, parts, strict=False))))
    return refs


def dag_metadata(dag_id: DagId, sha256: str, sources: Sequence[RowRef]) -> dict[str, str]:
    """The object metadata of a DAG file, within S3's 2 KB limit."""
    metadata = {
        "sha256": sha256,
        "compiler-version": __version__,
        "dag-id": dag_id,
        "source-row-count": str(len(sources)),
    }
    return _with_source_rows(metadata, encode_source_rows(sources))


def text_metadata(body: bytes) -> dict[str, str]:
    """The object metadata of a text file dynadag keeps (not a DAG): its sha256 and writer."""
    return {"sha256": sha256_hex(body), "compiler-version": __version__}


def rollback_metadata(metadata: Mapping[str, str], restored_from: str) -> dict[str, str]:
    """The metadata of a rollback copy: the restored version's, plus `rolled-back-from`
    (its version id), within S3's 2 KB (the `source-rows` list goes first)."""
    marked = {k: v for k, v in metadata.items() if k != SOURCE_ROWS}
    marked[ROLLED_BACK_FROM] = restored_from
    return _with_source_rows(marked, metadata.get(SOURCE_ROWS))


def _with_source_rows(metadata: dict[str, str], rows: str | None) -> dict[str, str]:
    """`metadata` plus `source-rows`, when there are rows and they fit in S3's limit."""
    used = sum(len(k) + len(v) for k, v in metadata.items())
    if rows is not None and used + len(SOURCE_ROWS) + len(rows) <= METADATA_LIMIT:
        metadata[SOURCE_ROWS] = rows
    return metadata
