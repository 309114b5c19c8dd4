"""The tables, queues and the bucket defined in `template.yaml`, read without AWS.

`template.yaml` is the one definition of the infrastructure: the local stack and the
integration tests create their tables, queues and bucket from what this module reads.
It is package data: `lambda_compiler/local/template.yaml` is a symbolic link to the SAM
template at the repository root (where `sam build` reads it), which a wheel stores as
the file itself, so `dynadag local` finds it outside the repository too.
The template is evaluated by `local.cfn` with the parameters' defaults and local pseudo
parameters: every `AWS::DynamoDB::Table` and `AWS::SQS::Queue` its conditions create is
read, whatever its logical id. A `Ref` to a resource gives its logical id; `!GetAtt`
gives a table's or queue's local ARN and a queue's name.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_compiler.local.cfn import Evaluation, TemplateError, as_text, load_template

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "template.yaml"

TASK_TABLE = "TaskTable"
JOB_TABLE = "JobTable"
SCHEDULER_TABLE = "SchedulerTable"
REGISTRY_TABLE = "RegistryTable"
RUN_HISTORY_TABLE = "RunHistoryTable"
DAGS_BUCKET = "DagsBucket"
TABLE_IDS = (TASK_TABLE, JOB_TABLE, SCHEDULER_TABLE, REGISTRY_TABLE, RUN_HISTORY_TABLE)

LOCAL_PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "dynadag-local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


@dataclass(frozen=True)
class TableDefinition:
    """One `AWS::DynamoDB::Table`, reduced to what `CreateTable` needs."""

    logical_id: str
    name: str
    key_schema: tuple[dict[str, str], ...]
    attribute_definitions: tuple[dict[str, str], ...]
    global_secondary_indexes: tuple[dict[str, Any], ...]
    stream_view_type: str | None

    @property
    def key_names(self) -> tuple[str, ...]:
        """The key attributes, hash key first."""
        ordered = sorted(self.key_schema, key=lambda k: k["KeyType"] != "HASH")
        return tuple(k["AttributeName"] for k in ordered)

    def create_table_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `dynamodb.create_table` (on-demand billing)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": list(self.key_schema),
            "AttributeDefinitions": list(self.attribute_definitions),
        }
        if self.global_secondary_indexes:
            kwargs["GlobalSecondaryIndexes"] = list(self.global_secondary_indexes)
        if self.stream_view_type:
            kwargs["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": self.stream_view_type,
            }
        return kwargs


@dataclass(frozen=True)
class BucketDefinition:
    """The dags bucket: its name when the template fixes one, versioning, lifecycle rules."""

    logical_id: str
    name: str | None
    versioned: bool
    lifecycle_rules: tuple[dict[str, Any], ...] = ()
    """In the shape of S3's `PutBucketLifecycleConfiguration` (not CloudFormation's)."""


@dataclass(frozen=True)
class QueueDefinition:
    """One `AWS::SQS::Queue`: its name and the attributes `CreateQueue` takes."""

    logical_id: str
    name: str
    attributes: Mapping[str, str]

    @property
    def dead_letter_target(self) -> str | None:
        """The ARN of the queue its `RedrivePolicy` sends failed messages to, if any."""
        policy = self.attributes.get("RedrivePolicy")
        return json.loads(policy).get("deadLetterTargetArn") if policy else None


@dataclass(frozen=True)
class StackResources:
    """Every table, queue and the dags bucket of the template, by logical id."""

    tables: Mapping[str, TableDefinition]
    bucket: BucketDefinition
    dags_prefix: str = "dags/"
    queues: Mapping[str, QueueDefinition] = dataclasses.field(default_factory=dict)

    @property
    def source_tables(self) -> tuple[TableDefinition, ...]:
        """The task, job and scheduler tables, in that order."""
        return tuple(self.tables[i] for i in (TASK_TABLE, JOB_TABLE, SCHEDULER_TABLE))


def read_resources(path: Path = DEFAULT_TEMPLATE) -> StackResources:
    """Every table and queue of `template.yaml` and its dags bucket.

    The five tables dynadag uses and the bucket must be there; any other table or queue
    the template creates is read the same way.
    """
    stack = _LocalStack(load_template(path), path)
    tables = {
        logical_id: stack.table(logical_id, resource)
        for logical_id, resource in stack.evaluation.created("AWS::DynamoDB::Table").items()
    }
    for logical_id in TABLE_IDS:
        if logical_id not in tables:
            raise TemplateError(f"{path}: resource {logical_id} is missing")
    buckets = stack.evaluation.created("AWS::S3::Bucket")
    if DAGS_BUCKET not in buckets:
        raise TemplateError(f"{path}: resource {DAGS_BUCKET} is missing")
    queues = {
        logical_id: stack.queue(logical_id, resource)
        for logical_id, resource in stack.evaluation.created("AWS::SQS::Queue").items()
    }
    return StackResources(tables, stack.bucket(buckets[DAGS_BUCKET]), stack.dags_prefix(), queues)


_TABLE_PROPERTIES = (
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "StreamSpecification",
)
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DelaySeconds",
    "FifoQueue",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "VisibilityTimeout",
)
"""The queue properties that are `CreateQueue` attributes of the same name; others
(encryption, tags...) do not change how a local queue behaves."""


class _LocalStack:
    """The template evaluated with local values; reads the properties `CreateTable`,
    `CreateQueue` and `CreateBucket` need, the rest (encryption, tags...) unread."""

    def __init__(self, template: dict[str, Any], path: Path) -> None:
        self.path = path
        self.evaluation = Evaluation(
            template,
            pseudo=LOCAL_PSEUDO_PARAMETERS,
            resource_value=self._resource_value,
            source=str(path),
        )

    def _resource_value(self, logical_id: str, attribute: str | None) -> Any:
        """A `Ref`: the logical id; `!GetAtt`: a table's or queue's ARN, a queue's name."""
        if attribute is None:
            return logical_id  # a resource's physical id: its logical id will do locally
        kind = self.evaluation.template["Resources"][logical_id].get("Type")
        region = LOCAL_PSEUDO_PARAMETERS["AWS::Region"]
        account = LOCAL_PSEUDO_PARAMETERS["AWS::AccountId"]
        if kind == "AWS::SQS::Queue" and attribute in ("Arn", "QueueName"):
            name = self._queue_name(logical_id)
            return name if attribute == "QueueName" else f"arn:aws:sqs:{region}:{account}:{name}"
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            table = self.table(logical_id, self.evaluation.template["Resources"][logical_id])
            return f"arn:aws:dynamodb:{region}:{account}:table/{table.name}"
        raise TemplateError(f"{self.path}: !GetAtt {logical_id}.{attribute} has no local value")

    def _properties(
        self, logical_id: str, resource: dict[str, Any], names: tuple[str, ...]
    ) -> dict[str, Any]:
        """The named properties, resolved."""
        props = resource.get("Properties") or {}
        where = f"Resources.{logical_id}.Properties"
        return {n: self.evaluation.resolve(props[n], f"{where}.{n}") for n in names if n in props}

    def table(self, logical_id: str, resource: dict[str, Any]) -> TableDefinition:
        where = f"Resources.{logical_id}.Properties"
        props = self._properties(logical_id, resource, _TABLE_PROPERTIES)
        name = props.get("TableName")
        if not isinstance(name, str) or not name:
            raise TemplateError(f"{self.path}: {where}.TableName must name the table")
        for required in ("KeySchema", "AttributeDefinitions"):
            if not props.get(required):
                raise TemplateError(f"{self.path}: {where}.{required} is missing")
        indexes = tuple(
            {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
            for index in props.get("GlobalSecondaryIndexes") or ()
        )
        stream = props.get("StreamSpecification") or {}
        return TableDefinition(
            logical_id=logical_id,
            name=name,
            key_schema=tuple(props["KeySchema"]),
            attribute_definitions=tuple(props["AttributeDefinitions"]),
            global_secondary_indexes=indexes,
            stream_view_type=stream.get("StreamViewType"),
        )

    def _queue_name(self, logical_id: str) -> str:
        """`QueueName`, else the logical id (with ``.fifo`` for a FIFO queue)."""
        resource = self.evaluation.template["Resources"][logical_id]
        props = self._properties(logical_id, resource, ("QueueName", "FifoQueue"))
        if props.get("QueueName"):
            return str(props["QueueName"])
        fifo = str(props.get("FifoQueue", "")).lower() == "true"
        return f"{logical_id}.fifo" if fifo else logical_id

    def queue(self, logical_id: str, resource: dict[str, Any]) -> QueueDefinition:
        props = self._properties(logical_id, resource, _QUEUE_ATTRIBUTES)
        attributes = {
            name: json.dumps(value) if isinstance(value, dict) else as_text(value)
            for name, value in props.items()
            if value is not None
        }
        return QueueDefinition(logical_id, self._queue_name(logical_id), attributes)

    def bucket(self, resource: dict[str, Any]) -> BucketDefinition:
        names = ("BucketName", "VersioningConfiguration", "LifecycleConfiguration")
        props = self._properties(DAGS_BUCKET, resource, names)
        name = props.get("BucketName")
        status = (props.get("VersioningConfiguration") or {}).get("Status")
        name = name if isinstance(name, str) and name else None
        where = f"Resources.{DAGS_BUCKET}.Properties.LifecycleConfiguration.Rules"
        rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or ()
        return BucketDefinition(
            DAGS_BUCKET,
            name,
            versioned=status == "Enabled",
            lifecycle_rules=tuple(
                _lifecycle_rule(rule, f"{where}[{i}]", self.path) for i, rule in enumerate(rules)
            ),
        )

    def dags_prefix(self) -> str:
        """`DYNADAG_DAGS_PREFIX` of the functions' global environment, if the template sets it."""
        template = self.evaluation.template
        variables = (
            ((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
        ).get("Variables") or {}
        if "DYNADAG_DAGS_PREFIX" not in variables:
            return "dags/"
        prefix = str(
            self.evaluation.resolve(
                variables["DYNADAG_DAGS_PREFIX"], "Globals.Function.DYNADAG_DAGS_PREFIX"
            )
        )
        return prefix.lstrip("/") if prefix.endswith("/") else f"{prefix.lstrip('/')}/"


def _lifecycle_rule(rule: dict[str, Any], where: str, path: Path) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in S3's API shape (the properties dynadag uses)."""
    s3_rule: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
    for name, value in rule.items():
        match name:
            case "Status":
                pass
            case "Id":
                s3_rule["ID"] = value
            case "Prefix":
                s3_rule["Filter"] = {"Prefix": value}
            case "ExpiredObjectDeleteMarker":
                s3_rule["Expiration"] = {"ExpiredObjectDeleteMarker": bool(value)}
            case "NoncurrentVersionExpiration" | "AbortIncompleteMultipartUpload":
                s3_rule[name] = {k: int(v) for k, v in value.items()}
            case _:
                raise TemplateError(f"{path}: {where}.{name} cannot be applied locally")
    s3_rule.setdefault("Filter", {"Prefix": ""})
    return s3_rule
