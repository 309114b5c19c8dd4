"""A provisioned moto stack whose DAG files are built as in production (CLI tests).

`CliStack.apply(rows)` makes the three tables hold exactly `rows`, then runs the
deploy-time rebuild, which compiles, publishes changed files, deletes gone ones and
records every outcome in the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from lambda_compiler.local.provision import provision
from lambda_compiler.local.resources import read_resources
from lambda_compiler.local.stack import stack_settings
from lambda_compiler.rebuild import RebuildReport, run_rebuild
from lambda_compiler.registry import Registry
from lambda_compiler.rows import JOB_KEY, SCHEDULER_KEY, TASK_KEY
from lambda_compiler.rows_file import put_rows
from lambda_compiler.settings import Settings

BUCKET = "cli-test-dags"


@dataclass
class CliStack:
    """The tables and bucket of `template.yaml` on the test moto server."""

    settings: Settings
    s3: Any
    dynamodb: Any

    @property
    def registry(self) -> Registry:
        return Registry(self.dynamodb, self.settings.registry_table)

    def apply(self, rows: dict[str, list[dict[str, Any]]]) -> RebuildReport:
        """Replace the rows of the three tables with `rows`, then rebuild every DAG."""
        tables = self.settings.tables
        for table, key in (
            (tables.task, TASK_KEY),
            (tables.job, JOB_KEY),
            (tables.scheduler, SCHEDULER_KEY),
        ):
            self._clear(table, key)
        put_rows(self.dynamodb, rows, tables)
        report = run_rebuild(self.settings)
        assert report.ok, report.failed
        return report

    def _clear(self, table: str, key: tuple[str, ...]) -> None:
        for item in self.dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]:
            self.dynamodb.delete_item(TableName=table, Key={name: item[name] for name in key})

    def versions(self, dag_id: str) -> list[dict[str, Any]]:
        """Versions and delete markers of a DAG's key, newest first, as S3 lists them."""
        key = f"{self.settings.dags_prefix}{dag_id}.py"
        listing = self.s3.list_object_versions(Bucket=self.settings.bucket, Prefix=key)
        entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
        return sorted(entries, key=lambda e: (e["LastModified"], e["IsLatest"]), reverse=True)

    def body(self, dag_id: str) -> str:
        key = f"{self.settings.dags_prefix}{dag_id}.py"
        return self.s3.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read().decode()


def make_stack(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    """Create the template's resources and point the CLI's environment at them."""
    resources = read_resources()
    s3 = boto3.client("s3", endpoint_url=endpoint)
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    provision(resources, dynamodb, s3, BUCKET)
    monkeypatch.setenv("DYNADAG_BUCKET", BUCKET)
    return CliStack(stack_settings(resources, BUCKET), s3, dynamodb)
