"""template.yaml as CloudFormation sees it: SAM-translated, then resolved for given parameters.

`translate()` runs the SAM translator offline (as `sam deploy` would, after `sam package`
has replaced the local CodeUri by an S3 location). `Resolved` then evaluates the intrinsic
functions for one set of parameter values with the local stack's reader
(`lambda_compiler.local.cfn`), so tests can assert on concrete ARNs and on which resources
a configuration creates. A resource's `Ref` resolves to `<LogicalId>` and `Fn::GetAtt` to
`<LogicalId.Attribute>`, values only AWS knows.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

from lambda_compiler.local.cfn import Evaluation, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "dynadag",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/dynadag/0f1e2d3c",
    "AWS::URLSuffix": "amazonaws.com",
}
CODE_URI = "s3://artifacts-bucket/dynadag/0123456789abcdef"
"""Where `sam package` would put the built package (its key is a hash of the zip)."""


class NoManagedPolicies(ManagedPolicyLoader):
    """The translator asks for AWS managed policy ARNs only for `Policies:`; we use none."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, str]:
        raise AssertionError("template.yaml should not reference AWS managed policies")


def source_template() -> dict[str, Any]:
    """template.yaml parsed, short tags turned into `Ref` / `Fn::*`."""
    return load_template(TEMPLATE)


@functools.cache
def _translated_json(code_uri: str) -> str:
    template = source_template()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    # The transform reads the region from boto3's session (SQS event sources need it).
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": PSEUDO["AWS::Region"]}):
        return json.dumps(transform(template, {}, NoManagedPolicies()))


def translate(code_uri: str = CODE_URI) -> dict[str, Any]:
    """The CloudFormation template the SAM transform produces (a fresh copy)."""
    return json.loads(_translated_json(code_uri))


def _placeholder(logical_id: str, attribute: str | None) -> str:
    """A resource's value only AWS knows: ``<LogicalId>`` or ``<LogicalId.Attribute>``."""
    return f"<{logical_id}>" if attribute is None else f"<{logical_id}.{attribute}>"


class Resolved:
    """The translated template, with conditions and intrinsics evaluated for `parameters`."""

    def __init__(
        self, parameters: Mapping[str, str] | None = None, code_uri: str = CODE_URI
    ) -> None:
        template = translate(code_uri)
        # A parameter the template gives no default stays empty unless the test sets it.
        required = {
            name: "" for name, spec in template["Parameters"].items() if "Default" not in spec
        }
        self.evaluation = Evaluation(
            template, {**required, **(parameters or {})}, pseudo=PSEUDO, resource_value=_placeholder
        )

    def condition(self, name: str) -> bool:
        return self.evaluation.condition(name)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this configuration creates, properties resolved."""
        return {
            logical_id: {
                **resource,
                "Properties": self.evaluation.resolve(
                    resource.get("Properties", {}), f"Resources.{logical_id}.Properties"
                ),
            }
            for logical_id, resource in self.evaluation.created().items()
        }

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def output(self, name: str) -> Any:
        return self.evaluation.resolve(
            self.evaluation.template["Outputs"][name]["Value"], f"Outputs.{name}"
        )


def statements(policy_document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Each statement of a policy document, with Action and Resource as lists."""
    for statement in policy_document["Statement"]:
        normalised = dict(statement)
        for key in ("Action", "Resource"):
            if key in normalised and not isinstance(normalised[key], list):
                normalised[key] = [normalised[key]]
        yield normalised
