"""Publishing DAG files to the versioned MWAA bucket, only when their bytes change.

`DagPublisher` wraps an injected S3 client. Each object carries the user metadata
`file_metadata` encodes (and decodes): its `sha256`, compared before every put so an
unchanged DAG is never re-uploaded and every S3 version is a real change, the writer's
version, the DAG id and the rows it was compiled from.

A DAG whose last file dynadag recorded (its ETag) is replaced without looking first: the
put is conditional on that ETag (``If-Match``), or on there being no object at all
(``If-None-Match: *``) for a DAG with no file; S3 refuses it when the object is not the
one expected, and the caller then looks (`current`) and decides as for any other put.

Deleting puts a delete marker (the bucket is versioned), and only when the object
exists, so replays never stack markers.

dynadag overwrites or deletes only what it wrote: a DAG file directly under the prefix
(never in a sub-folder) whose `dag-id` metadata names that DAG. Anything else at a DAG's
key (a hand-written file) is left alone and reported as ``foreign``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from lambda_compiler.file_metadata import dag_metadata, sha256_hex, text_metadata
from lambda_compiler.model import DagId
from lambda_compiler.naming import is_valid_dag_id
from lambda_compiler.rows import RowRef

CONTENT_TYPE = "text/x-python; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
_MISSING_CODES = ("404", "NoSuchKey", "NotFound")
_DENIED_CODES = ("403", "AccessDenied", "Forbidden")
_CONFLICT_CODES = ("412", "PreconditionFailed", "409", "ConditionalRequestConflict")
_REFUSED_CODES = (*_CONFLICT_CODES, *_MISSING_CODES, *_DENIED_CODES)
"""A conditional put refused with one of these is settled by looking first, as before."""


@dataclass(frozen=True)
class Published:
    """What a publish or delete did; `version_id` is the current version (or marker).

    ``foreign``: the object at the key was not written by dynadag, so it was left alone.
    """

    outcome: Literal["written", "unchanged", "deleted", "absent", "foreign"]
    key: str
    version_id: str | None
    etag: str | None = None


@dataclass(frozen=True)
class Current:
    """The object now at a key: its `sha256` metadata, version, user metadata and ETag."""

    sha256: str | None
    version_id: str | None
    metadata: dict[str, str]
    etag: str | None = None

    @property
    def by_dynadag(self) -> bool:
        """True when dynadag wrote this object (every object it writes names its version)."""
        return "compiler-version" in self.metadata


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

    @staticmethod
    def owns(dag_id: DagId, current: Current | None) -> bool:
        """True when dynadag may write or delete `dag_id`'s file, given what is there now.

        The file must sit directly under the prefix (a DAG id naming a sub-folder never
        does) and be absent or carry dynadag's `dag-id` metadata for this DAG.
        """
        top_level = is_valid_dag_id(dag_id) and dag_id not in (".", "..")
        return top_level and (current is None or current.metadata.get("dag-id") == dag_id)

    def current(self, key: str) -> Current | None:
        """What is at `key` now (a HEAD request); None when there is no object."""
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if self._missing(exc, key):
                return None
            raise
        return _current(head)

    def read(self, key: str) -> tuple[bytes, Current] | None:
        """The body and state of the object at `key` (a GET); None when there is none."""
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if self._missing(exc, key):
                return None
            raise
        return response["Body"].read(), _current(response)

    def _missing(self, exc: ClientError, key: str) -> bool:
        """True when `exc` says there is no object at `key`."""
        code = exc.response.get("Error", {}).get("Code")
        # The role may list the bucket only under the dags prefix, and a HEAD or GET
        # carries no prefix, so real S3 answers a missing key with 403: a listing of
        # exactly that key (allowed) tells a missing object from a real permission problem.
        return code in _MISSING_CODES or (code in _DENIED_CODES and not self._exists(key))

    def _exists(self, key: str) -> bool:
        listing = self._client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(item["Key"] == key for item in listing.get("Contents", []))

    def publish(
        self, dag_id: DagId, source: str, sources: Sequence[RowRef], current: Current | None
    ) -> Published:
        """Put the DAG file unless `current` (the object there now) has these bytes, or
        was not written by dynadag (``foreign``: left as it is)."""
        if not self.owns(dag_id, current):
            return Published("foreign", self.key(dag_id), current.version_id if current else None)
        body = source.encode()
        metadata = dag_metadata(dag_id, sha256_hex(body), sources)
        return self._put_unless_same(self.key(dag_id), body, metadata, current)

    def replace(
        self, dag_id: DagId, source: str, sources: Sequence[RowRef], etag: str | None
    ) -> Published | None:
        """Put the DAG file if the object at its key is the one with `etag` (None: if there
        is no object); None, with nothing written, when it is not (look with `current`)."""
        if not self.owns(dag_id, None):
            return None
        body = source.encode()
        metadata = dag_metadata(dag_id, sha256_hex(body), sources)
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            return self._put(self.key(dag_id), body, metadata, condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _REFUSED_CODES:
                return None
            raise

    def put_if_changed(self, key: str, body: bytes, metadata: dict[str, str]) -> Published:
        """Put `body` at `key` unless the object's `sha256` metadata already matches."""
        return self._put_unless_same(key, body, metadata, self.current(key))

    def _put_unless_same(
        self, key: str, body: bytes, metadata: dict[str, str], current: Current | None
    ) -> Published:
        if current is not None and current.sha256 == metadata["sha256"]:
            return Published("unchanged", key, current.version_id, current.etag)
        return self._put(key, body, metadata, {})

    def _put(
        self, key: str, body: bytes, metadata: dict[str, str], condition: dict[str, str]
    ) -> Published:
        response = self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=CONTENT_TYPE,
            Metadata=metadata,
            **condition,
        )
        return Published("written", key, response.get("VersionId"), response.get("ETag"))

    def update(
        self, key: str, change: Callable[[bytes | None, Current | None], bytes], attempts: int = 3
    ) -> Published:
        """Put `change(body, current)` of the object at `key`, unless the bytes stay equal.

        The put is conditional on the object being unchanged since it was read, so a
        concurrent upload (someone editing the file) is never lost: it is read again.
        """
        attempt = 1
        while True:
            found = self.read(key)
            body, current = found if found else (None, None)
            new = change(body, current)
            if current is not None and new == body:
                return Published("unchanged", key, current.version_id)
            condition = {"IfMatch": current.etag} if current else {"IfNoneMatch": "*"}
            try:
                response = self._client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=new,
                    ContentType=TEXT_CONTENT_TYPE,
                    Metadata=text_metadata(new),
                    **condition,
                )
            except ClientError as exc:
                conflict = exc.response.get("Error", {}).get("Code") in _CONFLICT_CODES
                if not conflict or attempt == attempts:
                    raise
                attempt += 1
                continue
            return Published("written", key, response.get("VersionId"))

    def delete(self, dag_id: DagId, current: Current | None) -> Published:
        """Delete the DAG file (a delete marker) if `current` says there is one and dynadag
        wrote it; a file it did not write is left alone (``foreign``)."""
        key = self.key(dag_id)
        if current is None:
            return Published("absent", key, None)
        if not self.owns(dag_id, current):
            return Published("foreign", key, current.version_id)
        return self._delete(key)

    def delete_key(self, key: str) -> Published:
        """Delete the object at `key` if there is one that dynadag wrote."""
        current = self.current(key)
        if current is None:
            return Published("absent", key, None)
        if not current.by_dynadag:
            return Published("foreign", key, current.version_id)
        return self._delete(key)

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


def _current(response: dict[str, Any]) -> Current:
    """The `Current` of a HEAD or GET response."""
    metadata = response.get("Metadata", {})
    return Current(
        metadata.get("sha256"), response.get("VersionId"), metadata, response.get("ETag")
    )
