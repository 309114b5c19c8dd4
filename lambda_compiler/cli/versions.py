"""The S3 versions of generated DAG files: listing, picking one, reading one."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from lambda_compiler.file_metadata import SOURCE_ROWS, decode_source_rows
from lambda_compiler.settings import Settings


class VersionError(LookupError):
    """An unknown DAG or version; the message says which and what exists."""


@dataclass(frozen=True)
class Version:
    """One version of a DAG file (or a delete marker), numbered from 1 = oldest."""

    number: int
    version_id: str
    modified: datetime.datetime
    size: int
    is_latest: bool
    deleted: bool


def dag_key(settings: Settings, dag_id: str) -> str:
    """The S3 key of a DAG's file."""
    return f"{settings.dags_prefix}{dag_id}.py"


_PAGE_SIZE = 1000
"""Entries per ListObjectVersions request (S3's maximum): one request holds every version a
file keeps under the bucket's lifecycle rule, so history numbers are nearly always exact."""


@dataclass(frozen=True)
class ObjectSummary:
    """A current object under the dags prefix, as ListObjectsV2 describes it."""

    size: int
    modified: datetime.datetime


def current_objects(s3: Any, bucket: str, prefix: str) -> dict[str, ObjectSummary]:
    """The current objects under `prefix` by key (ListObjectsV2: no old versions are read)."""
    found: dict[str, ObjectSummary] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            found[entry["Key"]] = ObjectSummary(entry["Size"], entry["LastModified"])
    return found


def newest_versions(
    s3: Any, settings: Settings, dag_id: str, limit: int | None = None
) -> tuple[list[Version], bool]:
    """A DAG's newest `limit` versions (all when None), oldest first, and whether they are all.

    ListObjectVersions is read page by page only until `limit` entries are in hand. When the
    second value is True, numbers count from 1 = the oldest version (the history numbers
    `pick` takes); otherwise older versions exist and the numbers only order what was read.
    S3 lists versions and delete markers apart, each newest first; they are merged by time,
    keeping S3's order among equal times. `VersionError` when the DAG never had a file.
    """
    key = dag_key(settings, dag_id)
    versions: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    complete = True
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=settings.bucket, Prefix=key, PaginationConfig={"PageSize": _PAGE_SIZE}
    )
    for page in pages:
        versions += [{**e, "deleted": False} for e in page.get("Versions", []) if e["Key"] == key]
        markers += [
            {**e, "deleted": True, "Size": 0}
            for e in page.get("DeleteMarkers", [])
            if e["Key"] == key
        ]
        listed = page.get("Versions", []) + page.get("DeleteMarkers", [])
        if any(e["Key"] != key for e in listed):  # keys sort after ours: ours are all read
            break
        if limit is not None and len(versions) + len(markers) >= limit and page["IsTruncated"]:
            complete = False
            break
    if not versions and not markers:
        raise VersionError(f"unknown DAG {dag_id!r}: no {key} in bucket {settings.bucket}")
    numbered = _numbered(_merge_newest_first(versions, markers))
    return (numbered if limit is None else numbered[-limit:]), complete


def _merge_newest_first(
    versions: list[dict[str, Any]], markers: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    merged = []
    while versions or markers:
        if not markers:
            source = versions
        elif not versions:
            source = markers
        else:
            newer_marker = (markers[0]["LastModified"], markers[0]["IsLatest"]) > (
                versions[0]["LastModified"],
                versions[0]["IsLatest"],
            )
            source = markers if newer_marker else versions
        merged.append(source.pop(0))
    return merged


def dag_versions(s3: Any, settings: Settings, dag_id: str) -> list[Version]:
    """Every version of a DAG, oldest first; `VersionError` when it never had a file."""
    return newest_versions(s3, settings, dag_id)[0]


def _numbered(newest_first: list[dict[str, Any]]) -> list[Version]:
    entries = newest_first[::-1]
    return [
        Version(
            number=n,
            version_id=e["VersionId"],
            modified=e["LastModified"],
            size=e["Size"],
            is_latest=e["IsLatest"],
            deleted=e["deleted"],
        )
        for n, e in enumerate(entries, start=1)
    ]


_SHORTEST_ID_PREFIX = 6


def pick(versions: list[Version], dag_id: str, wanted: str) -> Version:
    """The version named by its number in `dynadag history`, its id or a unique id prefix.

    A short number is always a history number: `7` must not match an id starting with 7.
    """
    if wanted.isdigit() and len(wanted) < _SHORTEST_ID_PREFIX:
        found = [versions[int(wanted) - 1]] if 1 <= int(wanted) <= len(versions) else []
    else:
        found = [v for v in versions if v.version_id == wanted] or [
            v for v in versions if v.version_id.startswith(wanted)
        ]
    if len(found) != 1:
        reason = "is ambiguous" if found else "does not exist"
        raise VersionError(
            f"version {wanted!r} of DAG {dag_id!r} {reason}: "
            f"use 1..{len(versions)} or a version id from `dynadag history {dag_id}`"
        )
    if found[0].deleted:
        raise VersionError(f"version {wanted!r} of DAG {dag_id!r} is a delete marker, not a file")
    return found[0]


def current_file(versions: list[Version]) -> Version | None:
    """The live version, or None when the DAG's file is deleted."""
    latest = versions[-1]
    return None if latest.deleted else latest


def files(versions: list[Version]) -> list[Version]:
    """The versions that hold a file (no delete markers)."""
    return [v for v in versions if not v.deleted]


def read_version(s3: Any, settings: Settings, dag_id: str, version: Version) -> str:
    """The text of one version of a DAG file."""
    body = s3.get_object(
        Bucket=settings.bucket, Key=dag_key(settings, dag_id), VersionId=version.version_id
    )["Body"].read()
    text: str = body.decode("utf-8")
    return text


def version_metadata(s3: Any, settings: Settings, dag_id: str, version: Version) -> dict[str, str]:
    """The user metadata stored with one version (sha256, source rows, compiler version)."""
    head = s3.head_object(
        Bucket=settings.bucket, Key=dag_key(settings, dag_id), VersionId=version.version_id
    )
    metadata: dict[str, str] = head.get("Metadata", {})
    return metadata


def source_rows(metadata: dict[str, str]) -> list[str]:
    """The rows a version was compiled from, as text, from its `source-rows` metadata.

    ``mwaa_task(task_id)=1,2`` gives ``mwaa_task[task_id='1']`` and
    ``mwaa_task[task_id='2']``. When the list did not fit in the metadata, only its
    length is known; text not in the encoder's form is shown as it is.
    """
    encoded = metadata.get(SOURCE_ROWS)
    if not encoded:
        count = metadata.get("source-row-count")
        return [f"{count} rows (listed in the file header)"] if count else []
    refs = decode_source_rows(encoded)
    return [encoded] if refs is None else [str(ref) for ref in refs]
