"""A provisioned moto stack whose DAG versions are written by the real adapters (CLI tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from lambda_compiler.compiler import compile_dags
from lambda_compiler.local.provision import provision
from lambda_compiler.local.resources import read_resources
from lambda_compiler.local.stack import stack_settings
from lambda_compiler.publish import DagPublisher, Published
from lambda_compiler.registry import OutcomeRecord, Registry
from lambda_compiler.settings import Settings
from lambda_compiler.snapshot import snapshot_from_json

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

    @property
    def publisher(self) -> DagPublisher:
        return DagPublisher(self.s3, self.settings.bucket, self.settings.dags_prefix)

    def publish(self, rows: dict[str, list[dict[str, Any]]]) -> dict[str, Published]:
        """Compile `rows`; publish each valid DAG and record every outcome, as a build does."""
        published = {}
        for dag_id, dag in compile_dags(snapshot_from_json(rows)).dags.items():
            if dag.source is None:
                problems = tuple(str(p) for p in dag.problems)
                self.registry.record_outcome(OutcomeRecord(dag_id, "invalid", problems=problems))
                continue
            result = self.publisher.publish(dag_id, dag.source, dag.inputs)
            published[dag_id] = result
            self.registry.record_outcome(
                OutcomeRecord(
                    dag_id,
                    result.outcome,  # type: ignore[arg-type]
                    kind=dag.kind,
                    s3_key=result.key,
                    version_id=result.version_id,
                    sha256=dag.sha256,
                    sources=tuple(str(ref) for ref in dag.inputs),
                )
            )
        return published

    def delete(self, dag_id: str) -> Published:
        result = self.publisher.delete(dag_id)
        self.registry.record_outcome(
            OutcomeRecord(dag_id, "deleted", s3_key=result.key, version_id=result.version_id)
        )
        return result

    def versions(self, dag_id: str) -> list[dict[str, Any]]:
        """Versions and delete markers of a DAG's key, newest first, as S3 lists them."""
        key = f"{self.settings.dags_prefix}{dag_id}.py"
        listing = self.s3.list_object_versions(Bucket=self.settings.bucket, Prefix=key)
        entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
        return sorted(entries, key=lambda e: e["LastModified"], reverse=True)

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
