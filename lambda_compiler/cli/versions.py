"""The S3 versions of generated DAG files: listing, picking one, reading one."""

from __future__ import annotations

import datetime
from collections import defaultdict
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


def list_versions(s3: Any, bucket: str, prefix: str) -> dict[str, list[Version]]:
    """Every key under `prefix` with its versions, oldest first.

    S3 lists each key's versions newest first, and delete markers apart from them;
    the two lists are merged by time, keeping S3's order among equal times.
    """
    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    markers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []):
            versions[entry["Key"]].append({**entry, "deleted": False})
        for entry in page.get("DeleteMarkers", []):
            markers[entry["Key"]].append({**entry, "deleted": True, "Size": 0})
    return {
        key: _numbered(_merge_newest_first(versions[key], markers[key]))
        for key in sorted(set(versions) | set(markers))
    }


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
    """A DAG's versions, oldest first; `VersionError` when it never had a file."""
    key = dag_key(settings, dag_id)
    versions = list_versions(s3, settings.bucket, key).get(key, [])
    if not versions:
        raise VersionError(f"unknown DAG {dag_id!r}: no {key} in bucket {settings.bucket}")
    return versions


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
    return body.decode("utf-8")


def version_metadata(s3: Any, settings: Settings, dag_id: str, version: Version) -> dict[str, str]:
    """The user metadata stored with one version (sha256, source rows, compiler version)."""
    head = s3.head_object(
        Bucket=settings.bucket, Key=dag_key(settings, dag_id), VersionId=version.version_id
    )
    return head.get("Metadata", {})


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
