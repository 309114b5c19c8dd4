"""`--stack NAME`: the bucket, prefix and tables come from the CloudFormation stack's outputs."""

from __future__ import annotations

import json

import boto3
import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from tests.cli_stack import CliStack, make_stack
from tests.rowkit import job, task

pytestmark = pytest.mark.moto

runner = CliRunner()
STACK = "dynadag-test"
GOOD = {"mwaa_task": [task("1")], "mwaa_job": [job("1", "1", name="load")]}


def create_cloudformation_stack(endpoint: str, stack: CliStack) -> None:
    """A stack whose outputs carry the names template.yaml's Outputs give (not the SAM app)."""
    settings = stack.settings
    outputs = {
        "DagsBucketName": settings.bucket,
        "MwaaDagS3Path": settings.dags_prefix.rstrip("/"),
        "TaskTableName": settings.tables.task,
        "JobTableName": settings.tables.job,
        "SchedulerTableName": settings.tables.scheduler,
        "RegistryTableName": settings.registry_table,
        "RunHistoryTableName": settings.run_history_table,
    }
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    boto3.client("cloudformation", endpoint_url=endpoint).create_stack(
        StackName=STACK, TemplateBody=json.dumps(template)
    )


@pytest.fixture
def deployed(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(GOOD)
    create_cloudformation_stack(moto_endpoint, stack)
    monkeypatch.delenv("DYNADAG_BUCKET")
    return stack


def test_stack_flag_finds_bucket_and_tables(deployed: CliStack) -> None:
    status = runner.invoke(app, ["--stack", STACK, "status", "--format", "json"])
    listing = runner.invoke(app, ["--stack", STACK, "ls", "--format", "json"])

    assert status.exit_code == 0, status.output
    assert [r["dag_id"] for r in json.loads(status.stdout)] == ["job-load"]
    assert listing.exit_code == 0, listing.output
    assert "job-load.py" in [f["file"] for f in json.loads(listing.stdout)]


def test_dynadag_stack_variable_and_endpoint_flag(
    deployed: CliStack, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str
) -> None:
    monkeypatch.setenv("DYNADAG_STACK", STACK)
    monkeypatch.delenv("AWS_ENDPOINT_URL")

    result = runner.invoke(app, ["--endpoint-url", moto_endpoint, "show", "job-load"])

    assert result.exit_code == 0, result.output
    assert "dag_id=" in result.stdout and "job-load" in result.stdout


def test_an_unknown_stack_or_region_is_one_error(deployed: CliStack) -> None:
    unknown = runner.invoke(app, ["--stack", "nope", "status"])
    elsewhere = runner.invoke(app, ["--stack", STACK, "--region", "eu-west-1", "status"])

    for result in (unknown, elsewhere):
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.splitlines()[1] == (
            "hint: check --stack / DYNADAG_STACK, --region and --profile"
        )
    assert unknown.stderr.startswith("error: CloudFormation stack 'nope' does not exist")
    assert elsewhere.stderr.startswith(f"error: CloudFormation stack '{STACK}' does not exist")


def test_a_bad_endpoint_flag_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["--endpoint-url", "not-a-url", "--stack", STACK, "ls"])

    assert result.exit_code == 2
    assert result.stderr.startswith("error: --endpoint-url 'not-a-url' is not an http(s) URL")
