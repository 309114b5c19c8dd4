"""The tables and the bucket defined in `template.yaml`, read without AWS.

`template.yaml` is the one definition of the infrastructure: the local stack and the
integration tests create their tables and bucket from what this module reads. It is
package data: `lambda_compiler/local/template.yaml` is a symbolic link to the SAM
template at the repository root (where `sam build` reads it), which a wheel stores as
the file itself, so `dynadag local` finds it outside the repository too.
CloudFormation short tags (`!Ref`, `!If`, `!Sub`, ...) are read as their long
`Fn::` forms; `Ref` to a parameter resolves to the parameter's `Default`, conditions
are evaluated with those defaults, and pseudo parameters get local values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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
    "AWS::NoValue": None,
}


class TemplateError(ValueError):
    """`template.yaml` lacks a resource or property the local stack needs; says which."""


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
class StackResources:
    """Every table and the dags bucket of the template, tables by logical id."""

    tables: Mapping[str, TableDefinition]
    bucket: BucketDefinition
    dags_prefix: str = "dags/"

    @property
    def source_tables(self) -> tuple[TableDefinition, ...]:
        """The task, job and scheduler tables, in that order."""
        return tuple(self.tables[i] for i in (TASK_TABLE, JOB_TABLE, SCHEDULER_TABLE))


class _TemplateLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation short tags as their long forms."""


def _construct_tag(loader: _TemplateLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_TemplateLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = DEFAULT_TEMPLATE) -> dict[str, Any]:
    """The template as plain data, short tags turned into `{"Fn::...": ...}`."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_TemplateLoader)
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: no Resources section")
    return data


class _Resolver:
    """Evaluates the intrinsic functions that can decide a name, using parameter defaults."""

    def __init__(self, template: Mapping[str, Any], path: Path) -> None:
        self.path = path
        self.values: dict[str, Any] = dict(LOCAL_PSEUDO_PARAMETERS)
        for name, spec in (template.get("Parameters") or {}).items():
            if isinstance(spec, dict) and "Default" in spec:
                self.values[name] = spec["Default"]
        self.conditions = template.get("Conditions") or {}
        self.resources = template["Resources"]

    def resolve(self, value: Any, where: str) -> Any:
        """`value` with every intrinsic function replaced by its local result."""
        if isinstance(value, list):
            return [self.resolve(v, where) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref" or name.startswith("Fn::"):
                return self._intrinsic(name, arg, where)
        return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}

    def condition(self, name: str, where: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"{self.path}: {where} uses unknown condition {name!r}")
        return bool(self.resolve(self.conditions[name], f"Conditions.{name}"))

    def _intrinsic(self, name: str, arg: Any, where: str) -> Any:
        match name:
            case "Ref":
                if arg in self.values:
                    return self.values[arg]
                if arg in self.resources:
                    return arg  # a resource's physical id: its logical id will do locally
                raise TemplateError(f"{self.path}: {where}: !Ref {arg} has no local value")
            case "Fn::If":
                cond, when_true, when_false = arg
                chosen = when_true if self.condition(cond, where) else when_false
                return self.resolve(chosen, where)
            case "Fn::Equals":
                left, right = (self.resolve(v, where) for v in arg)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(arg[0], where)
            case "Fn::And":
                return all(self.resolve(v, where) for v in arg)
            case "Fn::Or":
                return any(self.resolve(v, where) for v in arg)
            case "Condition":
                return self.condition(arg, where)
            case "Fn::Sub":
                return self._sub(arg, where)
            case "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(self.resolve(p, where)) for p in parts)
        raise TemplateError(f"{self.path}: {where}: {name} cannot be evaluated locally")

    def _sub(self, arg: Any, where: str) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {**self.values, **{k: self.resolve(v, where) for k, v in extra.items()}}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values or values[name] is None:
                raise TemplateError(f"{self.path}: {where}: ${{{name}}} has no local value")
            return str(values[name])

        return re.sub(r"\$\{([A-Za-z0-9:._]+)\}", replace, text)


def read_resources(path: Path = DEFAULT_TEMPLATE) -> StackResources:
    """The five tables and the dags bucket of `template.yaml`."""
    template = load_template(path)
    resolver = _Resolver(template, path)
    resources = template["Resources"]
    tables = {
        logical_id: _table(resolver, logical_id, _resource(resources, logical_id, path))
        for logical_id in TABLE_IDS
    }
    bucket = _bucket(resolver, _resource(resources, DAGS_BUCKET, path))
    return StackResources(tables, bucket, _dags_prefix(resolver, template))


def _dags_prefix(resolver: _Resolver, template: Mapping[str, Any]) -> str:
    """`DYNADAG_DAGS_PREFIX` of the functions' global environment, if the template sets it."""
    variables = (
        ((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    ).get("Variables") or {}
    if "DYNADAG_DAGS_PREFIX" not in variables:
        return "dags/"
    prefix = str(resolver.resolve(variables["DYNADAG_DAGS_PREFIX"], "Globals.DYNADAG_DAGS_PREFIX"))
    return prefix.lstrip("/") if prefix.endswith("/") else f"{prefix.lstrip('/')}/"


def _resource(resources: Mapping[str, Any], logical_id: str, path: Path) -> dict[str, Any]:
    resource = resources.get(logical_id)
    if not isinstance(resource, dict):
        raise TemplateError(f"{path}: resource {logical_id} is missing")
    return resource


_TABLE_PROPERTIES = (
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "StreamSpecification",
)


def _properties(
    resolver: _Resolver, resource: dict[str, Any], where: str, names: tuple[str, ...]
) -> dict[str, Any]:
    """The named properties, resolved; other properties (encryption, tags...) are not read."""
    props = resource.get("Properties") or {}
    return {n: resolver.resolve(props[n], f"{where}.{n}") for n in names if n in props}


def _table(resolver: _Resolver, logical_id: str, resource: dict[str, Any]) -> TableDefinition:
    where = f"Resources.{logical_id}.Properties"
    props = _properties(resolver, resource, where, _TABLE_PROPERTIES)
    name = props.get("TableName")
    if not isinstance(name, str) or not name:
        raise TemplateError(f"{resolver.path}: {where}.TableName must name the table")
    for required in ("KeySchema", "AttributeDefinitions"):
        if not props.get(required):
            raise TemplateError(f"{resolver.path}: {where}.{required} is missing")
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


def _bucket(resolver: _Resolver, resource: dict[str, Any]) -> BucketDefinition:
    where = f"Resources.{DAGS_BUCKET}.Properties"
    props = _properties(
        resolver,
        resource,
        where,
        ("BucketName", "VersioningConfiguration", "LifecycleConfiguration"),
    )
    name = props.get("BucketName")
    status = (props.get("VersioningConfiguration") or {}).get("Status")
    name = name if isinstance(name, str) and name else None
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or ()
    return BucketDefinition(
        DAGS_BUCKET,
        name,
        versioned=status == "Enabled",
        lifecycle_rules=tuple(
            _lifecycle_rule(rule, f"{where}.LifecycleConfiguration.Rules[{i}]", resolver.path)
            for i, rule in enumerate(rules)
        ),
    )


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
