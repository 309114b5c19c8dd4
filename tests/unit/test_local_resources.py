"""The template reader: the local stack's tables and bucket come from `template.yaml`."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_compiler.local.resources import DEFAULT_TEMPLATE, TemplateError, read_resources
from tests.conftest import REPO_ROOT

TABLE = """
  {logical}:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: {name}
      KeySchema: [{{AttributeName: id, KeyType: HASH}}]
      AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
"""


def _template(tmp_path: Path, header: str = "", **overrides: str) -> Path:
    logicals = ("TaskTable", "JobTable", "SchedulerTable", "RegistryTable", "RunHistoryTable")
    tables = "".join(
        overrides.get(logical, TABLE.format(logical=logical, name=logical.lower()))
        for logical in logicals
    )
    bucket = overrides.get(
        "DagsBucket",
        "  DagsBucket:\n    Type: AWS::S3::Bucket\n"
        "    Properties:\n      VersioningConfiguration: {Status: Enabled}\n",
    )
    path = tmp_path / "template.yaml"
    path.write_text(f"{header}\nResources:\n{tables}{bucket}")
    return path


def test_the_project_template_defines_the_original_tables_with_streams_and_the_index() -> None:
    resources = read_resources()

    task, job, scheduler = resources.source_tables
    assert (task.name, task.key_names) == ("mwaa_task", ("task_id",))
    assert (job.name, job.key_names) == ("mwaa_job", ("job_type", "job_id"))
    assert (scheduler.name, scheduler.key_names) == ("mwaa_scheduler", ("schedule_id",))
    for table in resources.source_tables:
        assert table.create_table_kwargs()["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    assert [i["IndexName"] for i in job.global_secondary_indexes] == ["job_id-index"]
    assert resources.tables["RegistryTable"].key_names == ("pk", "sk")
    assert resources.tables["RegistryTable"].stream_view_type is None
    assert resources.tables["RunHistoryTable"].name == "dynadag_run_history"
    assert resources.bucket.versioned
    assert resources.dags_prefix == "dags/"


def test_refs_resolve_to_parameter_defaults_and_conditions_are_evaluated(tmp_path: Path) -> None:
    header = """
Parameters:
  TaskTableName: {Type: String, Default: legacy_tasks}
  UseIndex: {Type: String, Default: "yes"}
Conditions:
  WithIndex: !Equals [!Ref UseIndex, "yes"]
  WithoutIndex: !Not [!Condition WithIndex]
"""
    job = """
  JobTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-jobs"
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      GlobalSecondaryIndexes: !If
        - WithoutIndex
        - !Ref AWS::NoValue
        - [{IndexName: by-x, KeySchema: [{AttributeName: x, KeyType: HASH}],
            Projection: {ProjectionType: KEYS_ONLY}}]
      SSESpecification: {KMSMasterKeyId: !GetAtt Key.Arn}
"""
    task = TABLE.format(logical="TaskTable", name="!Ref TaskTableName")

    resources = read_resources(_template(tmp_path, header, TaskTable=task, JobTable=job))

    assert resources.tables["TaskTable"].name == "legacy_tasks"
    assert resources.tables["JobTable"].name == "dynadag-local-jobs"
    assert [i["IndexName"] for i in resources.tables["JobTable"].global_secondary_indexes] == [
        "by-x"
    ]


def test_a_bucket_without_versioning_or_name_is_read_as_such(tmp_path: Path) -> None:
    bucket = "  DagsBucket:\n    Type: AWS::S3::Bucket\n"

    resources = read_resources(_template(tmp_path, DagsBucket=bucket))

    assert resources.bucket.name is None
    assert not resources.bucket.versioned


def test_a_missing_resource_is_named(tmp_path: Path) -> None:
    path = _template(tmp_path, SchedulerTable="")

    with pytest.raises(TemplateError, match="resource SchedulerTable is missing"):
        read_resources(path)


def test_a_name_that_cannot_be_resolved_locally_says_where(tmp_path: Path) -> None:
    task = TABLE.format(logical="TaskTable", name="!ImportValue shared-task-table")

    with pytest.raises(
        TemplateError, match=r"Resources\.TaskTable\.Properties\.TableName: Fn::ImportValue"
    ):
        read_resources(_template(tmp_path, TaskTable=task))


def test_a_ref_to_an_undeclared_parameter_says_which(tmp_path: Path) -> None:
    task = TABLE.format(logical="TaskTable", name="!Ref NoSuchParameter")

    with pytest.raises(TemplateError, match="!Ref NoSuchParameter has no local value"):
        read_resources(_template(tmp_path, TaskTable=task))


def test_an_unreadable_template_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        read_resources(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("Resources: [unclosed")
    with pytest.raises(TemplateError, match="not valid YAML"):
        read_resources(bad)


def test_the_packaged_template_is_the_sam_template_itself() -> None:
    # One source of truth: the package-data path links to the template `sam build` reads,
    # so a checkout that turned the link into a copy (or a stale file) fails here.
    sam_template = REPO_ROOT / "template.yaml"
    assert DEFAULT_TEMPLATE.is_symlink()
    assert DEFAULT_TEMPLATE.resolve() == sam_template.resolve()
    assert DEFAULT_TEMPLATE.read_bytes() == sam_template.read_bytes()
    assert read_resources().bucket.versioned


def test_every_queue_and_table_the_template_creates_is_read(tmp_path: Path) -> None:
    extra = """
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 900
      SqsManagedSseEnabled: true
      RedrivePolicy: {deadLetterTargetArn: !GetAtt WorkDeadLetters.Arn, maxReceiveCount: 5}
  WorkDeadLetters:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: dynadag-work-dlq
      FifoQueue: false
"""
    leases = TABLE.format(logical="LeaseTable", name='!Sub "${AWS::StackName}-leases"')
    path = _template(tmp_path)
    path.write_text(path.read_text() + extra + leases)

    resources = read_resources(path)

    work, dead = resources.queues["WorkQueue"], resources.queues["WorkDeadLetters"]
    assert (work.name, dead.name) == ("WorkQueue", "dynadag-work-dlq")
    assert work.attributes == {
        "VisibilityTimeout": "900",
        "RedrivePolicy": '{"deadLetterTargetArn": '
        '"arn:aws:sqs:us-east-1:123456789012:dynadag-work-dlq", "maxReceiveCount": 5}',
    }
    assert work.dead_letter_target == "arn:aws:sqs:us-east-1:123456789012:dynadag-work-dlq"
    assert dead.attributes == {"FifoQueue": "false"} and dead.dead_letter_target is None
    assert resources.tables["LeaseTable"].name == "dynadag-local-leases"


def test_the_project_templates_dead_letter_queue_is_created_locally() -> None:
    queue = read_resources().queues["StreamDeadLetterQueue"]
    assert queue.attributes == {"MessageRetentionPeriod": "1209600"}


def test_a_lifecycle_property_the_local_stack_cannot_apply_is_named(tmp_path: Path) -> None:
    bucket = (
        "  DagsBucket:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      LifecycleConfiguration:\n        Rules:\n"
        "          - {Status: Enabled, ExpirationInDays: 3}\n"
    )

    with pytest.raises(
        TemplateError,
        match=r"LifecycleConfiguration\.Rules\[0\]\.ExpirationInDays cannot be applied locally",
    ):
        read_resources(_template(tmp_path, DagsBucket=bucket))
