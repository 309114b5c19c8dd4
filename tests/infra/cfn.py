"""template.yaml as CloudFormation sees it: SAM-translated, then resolved for given parameters.

`translate()` runs the SAM translator offline (as `sam deploy` would, after `sam package`
has replaced the local CodeUri by an S3 location). `Resolved` then evaluates the intrinsic
functions for one set of parameter values, so tests can assert on concrete ARNs and on
which resources a configuration creates. A resource's `Ref` resolves to `<LogicalId>` and
`Fn::GetAtt` to `<LogicalId.Attribute>`, values only AWS knows.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "dynadag",
    "AWS::URLSuffix": "amazonaws.com",
}
CODE_URI = "s3://artifacts-bucket/dynadag/0123456789abcdef"
"""Where `sam package` would put the built package (its key is a hash of the zip)."""
_DROP = object()


class NoManagedPolicies(ManagedPolicyLoader):
    """The translator asks for AWS managed policy ARNs only for `Policies:`; we use none."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, str]:
        raise AssertionError("template.yaml should not reference AWS managed policies")


def source_template() -> dict[str, Any]:
    """template.yaml parsed, short tags turned into `Ref` / `Fn::*`."""
    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))


@functools.cache
def _translated_json(code_uri: str) -> str:
    template = source_template()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    return json.dumps(transform(template, {}, NoManagedPolicies()))


def translate(code_uri: str = CODE_URI) -> dict[str, Any]:
    """The CloudFormation template the SAM transform produces (a fresh copy)."""
    return json.loads(_translated_json(code_uri))


class Resolved:
    """The translated template, with conditions and intrinsics evaluated for `parameters`."""

    def __init__(
        self, parameters: Mapping[str, str] | None = None, code_uri: str = CODE_URI
    ) -> None:
        self.template = translate(code_uri)
        declared = self.template["Parameters"]
        unknown = set(parameters or {}) - set(declared)
        assert not unknown, f"not template parameters: {unknown}"
        self.values: dict[str, Any] = {
            **PSEUDO,
            **{name: str(spec.get("Default", "")) for name, spec in declared.items()},
            **(parameters or {}),
        }
        self._conditions = self.template.get("Conditions", {})

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self._conditions[name]))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this configuration creates, properties resolved."""
        created = {}
        for logical_id, resource in self.template["Resources"].items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            resolved = copy.deepcopy(resource)
            resolved["Properties"] = self.resolve(resource.get("Properties", {}))
            created[logical_id] = resolved
        return created

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def output(self, name: str) -> Any:
        return self.resolve(self.template["Outputs"][name]["Value"])

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _DROP]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref" or name.startswith("Fn::") or name == "Condition":
                return self._intrinsic(name, arg)
        items = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _DROP}

    def _intrinsic(self, name: str, arg: Any) -> Any:
        if name == "Ref":
            if arg == "AWS::NoValue":
                return _DROP
            return self.values.get(arg, f"<{arg}>")
        if name == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return f"<{logical_id}.{attribute}>"
        if name == "Fn::If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Fn::Equals":
            left, right = (self.resolve(v) for v in arg)
            return str(left) == str(right)
        if name == "Fn::Not":
            return not self.resolve(arg[0])
        if name == "Fn::Or":
            return any(self.resolve(v) for v in arg)
        if name == "Condition":
            return self.condition(arg)
        if name == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else arg
            local = {k: self.resolve(v) for k, v in extra.items()}

            def substitute(match: re.Match[str]) -> str:
                key = match.group(1)
                if key in local:
                    return str(local[key])
                if "." in key:
                    return f"<{key}>"
                return str(self._intrinsic("Ref", key))

            return re.sub(r"\$\{([A-Za-z0-9:._]+)\}", substitute, text)
        if name == "Fn::Join":
            separator, parts = arg
            return separator.join(str(p) for p in self.resolve(parts))
        raise AssertionError(f"tests/infra/cfn.py cannot evaluate {name}")


def statements(policy_document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Each statement of a policy document, with Action and Resource as lists."""
    for statement in policy_document["Statement"]:
        normalised = dict(statement)
        for key in ("Action", "Resource"):
            if key in normalised and not isinstance(normalised[key], list):
                normalised[key] = [normalised[key]]
        yield normalised
