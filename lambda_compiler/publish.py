"""Publishing DAG files to the versioned MWAA bucket, only when their bytes change.

`DagPublisher` wraps an injected S3 client. Each object carries user metadata:

- `sha256`: hex sha256 of the body. It is compared before every put, so an unchanged
  DAG is never re-uploaded and every S3 version is a real change;
- `compiler-version`: the dynadag version that wrote it;
- `dag-id`: the DAG id;
- `source-row-count`: how many rows the DAG was compiled from;
- `source-rows`: those rows, compactly, ``{table}({key names})={values},...;...``
  with each value percent-encoded (ASCII), e.g.
  ``mwaa_job(job_type,job_id)=etl/7;mwaa_task(task_id)=1,2``.

S3 allows 2 KB of user metadata in total. When `source-rows` would not fit (a job
with very many tasks) it is left out; `source-row-count` stays, and the full list
is always in the registry item and in the file's own header.

Deleting puts a delete marker (the bucket is versioned), and only when the object
exists, so replays never stack markers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal
from urllib.parse import quote

from botocore.exceptions import ClientError

from lambda_compiler import __version__
from lambda_compiler.compiler import sha256_hex
from lambda_compiler.model import DagId
from lambda_compiler.rows import RowRef

METADATA_LIMIT = 2048
CONTENT_TYPE = "text/x-python; charset=utf-8"


@dataclass(frozen=True)
class Published:
    """What a publish or delete did; `version_id` is the current version (or marker)."""

    outcome: Literal["written", "unchanged", "deleted", "absent"]
    key: str
    version_id: str | None


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


def dag_metadata(dag_id: DagId, sha256: str, sources: Sequence[RowRef]) -> dict[str, str]:
    """The object metadata of a DAG file, within S3's 2 KB limit."""
    metadata = {
        "sha256": sha256,
        "compiler-version": __version__,
        "dag-id": dag_id,
        "source-row-count": str(len(sources)),
    }
    rows = encode_source_rows(sources)
    used = sum(len(k) + len(v) for k, v in metadata.items())
    if used + len("source-rows") + len(rows) <= METADATA_LIMIT:
        metadata["source-rows"] = rows
    return metadata


@dataclass(frozen=True)
class Current:
    """The object now at a key: its `sha256` metadata, version and user metadata."""

    sha256: str | None
    version_id: str | None
    metadata: dict[str, str]


class DagPublisher:
    """DAG files under `prefix` in `bucket`, through one S3 client.

    `current(key)` is a separate call so a caller can look while it compiles, and pass
    the answer to `publish` or `delete`.
    """

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix

    def key(self, dag_id: DagId) -> str:
        return f"{self.prefix}{dag_id}.py"

    def current(self, key: str) -> Current | None:
        """What is at `key` now (a HEAD request); None when there is no object."""
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            # The role may list the bucket only under the dags prefix, and a HEAD carries
            # no prefix, so real S3 answers a missing key with 403: a listing of exactly
            # that key (allowed) tells a missing object from a real permission problem.
            if code in ("403", "AccessDenied", "Forbidden") and not self._exists(key):
                return None
            raise
        metadata = head.get("Metadata", {})
        return Current(metadata.get("sha256"), head.get("VersionId"), metadata)

    def _exists(self, key: str) -> bool:
        listing = self._client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(item["Key"] == key for item in listing.get("Contents", []))

    def publish(
        self, dag_id: DagId, source: str, sources: Sequence[RowRef], current: Current | None
    ) -> Published:
        """Put the DAG file unless `current` (the object there now) has these bytes."""
        body = source.encode()
        metadata = dag_metadata(dag_id, sha256_hex(body), sources)
        return self._put_unless_same(self.key(dag_id), body, metadata, current)

    def put_if_changed(self, key: str, body: bytes, metadata: dict[str, str]) -> Published:
        """Put `body` at `key` unless the object's `sha256` metadata already matches."""
        return self._put_unless_same(key, body, metadata, self.current(key))

    def _put_unless_same(
        self, key: str, body: bytes, metadata: dict[str, str], current: Current | None
    ) -> Published:
        if current is not None and current.sha256 == metadata["sha256"]:
            return Published("unchanged", key, current.version_id)
        response = self._client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=CONTENT_TYPE, Metadata=metadata
        )
        return Published("written", key, response.get("VersionId"))

    def delete(self, dag_id: DagId, current: Current | None) -> Published:
        """Delete the DAG file (a delete marker) if `current` says there is one."""
        key = self.key(dag_id)
        return self._delete(key) if current is not None else Published("absent", key, None)

    def delete_key(self, key: str) -> Published:
        """Delete the object at `key` if there is one."""
        return (
            self._delete(key) if self.current(key) is not None else Published("absent", key, None)
        )

    def _delete(self, key: str) -> Published:
        response = self._client.delete_object(Bucket=self.bucket, Key=key)
        return Published("deleted", key, response.get("VersionId"))

    def dag_ids(self) -> set[DagId]:
        """The DAG ids of the ``{prefix}{dag_id}.py`` files now in the bucket."""
        return {
            DagId(key[len(self.prefix) : -len(".py")])
            for key in self.keys(self.prefix)
            if key.endswith(".py") and "/" not in key[len(self.prefix) :]
        }

    def keys(self, prefix: str) -> Iterator[str]:
        """The keys of the current objects under `prefix`."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"]
