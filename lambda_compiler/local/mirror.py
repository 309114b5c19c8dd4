"""Keep a local folder equal to the bucket's dags prefix, as MWAA's sync does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MANIFEST = ".dynadag-mirror.json"


class DagsMirror:
    """Copies new or changed objects under `prefix` into `folder` and removes deleted ones.

    The files it wrote are listed in a manifest in the folder, so a later run removes
    files of DAGs that no longer exist without touching anything else in the folder.
    """

    def __init__(self, s3: Any, bucket: str, prefix: str, folder: Path) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix
        self.folder = Path(folder)
        self._manifest = self.folder / MANIFEST
        try:
            self._etags: dict[str, str] = json.loads(self._manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._etags = {}

    def sync(self) -> list[str]:
        """Bring the folder up to date; returns the relative paths written or removed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        current: dict[str, str] = {}
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._prefix
        ):
            for obj in page.get("Contents", []):
                relative = obj["Key"][len(self._prefix) :]
                if relative and not relative.endswith("/"):
                    current[relative] = obj["ETag"]
        changed = []
        for relative, etag in sorted(current.items()):
            target = self.folder / relative
            if self._etags.get(relative) != etag or not target.exists():
                body = self._s3.get_object(Bucket=self._bucket, Key=self._prefix + relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body["Body"].read())
                changed.append(relative)
        for relative in sorted(set(self._etags) - set(current)):
            (self.folder / relative).unlink(missing_ok=True)
            changed.append(relative)
        if changed or not self._manifest.exists():
            self._manifest.write_text(json.dumps(current, indent=1, sort_keys=True), "utf-8")
        self._etags = current
        return changed
