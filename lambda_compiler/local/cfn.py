"""CloudFormation templates, read and evaluated for one set of parameter values.

One reader for the local stack (`local/resources.py`) and the template tests
(`tests/infra/cfn.py`). `load_template` decodes YAML with the SAM translator's
intrinsic-tag constructor (``!Ref``, ``!Sub``... become ``Ref`` / ``Fn::*``).
`Evaluation` lets samtranslator's `IntrinsicsResolver` put parameter values (declared
defaults, overridden by the given ones, and pseudo parameters) into every ``Ref`` and
``Fn::Sub``, then evaluates what it leaves: conditions (``Fn::If``, ``Fn::Equals``,
``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``), ``Fn::Join``, ``AWS::NoValue``
(the property or item is left out) and references to resources, whose values only AWS
knows: the caller's `resource_value` gives them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from samtranslator.intrinsics.resolver import IntrinsicsResolver
from samtranslator.yaml_helper import intrinsics_multi_constructor

ResourceValue = Callable[[str, str | None], Any]
"""``(logical id, attribute)`` → the value of ``!GetAtt id.attribute`` (``!Ref id`` when
the attribute is None); raises `TemplateError` when it has none here."""

_LEFT_OUT = object()
_REFERENCE = re.compile(r"\$\{([A-Za-z0-9:._]+)\}")


class TemplateError(ValueError):
    """A template that cannot be read or evaluated here; the message says where and why."""


class _TemplateLoader(yaml.SafeLoader):
    """PyYAML's safe loader plus CloudFormation short tags (without changing SafeLoader)."""


_TemplateLoader.add_multi_constructor("!", intrinsics_multi_constructor)


def load_template(path: Path) -> dict[str, Any]:
    """The template at `path` as plain data, short tags in their long forms."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_TemplateLoader)
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: no Resources section")
    return data


def as_text(value: Any) -> str:
    """A parameter or attribute value as CloudFormation passes it: text, ``true``/``false``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


class Evaluation:
    """`template` as CloudFormation would evaluate it for `parameters`.

    `source` names the template in error messages.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        *,
        pseudo: Mapping[str, str],
        resource_value: ResourceValue,
        source: str = "template",
    ) -> None:
        declared = template.get("Parameters") or {}
        unknown = sorted(set(parameters or {}) - set(declared))
        if unknown:
            raise TemplateError(f"{source}: not template parameters: {', '.join(unknown)}")
        defaults = {
            name: as_text(spec["Default"])
            for name, spec in declared.items()
            if isinstance(spec, dict) and "Default" in spec
        }
        self.values: dict[str, str] = {**pseudo, **defaults, **(parameters or {})}
        self.template: dict[str, Any] = IntrinsicsResolver(self.values).resolve_parameter_refs(
            copy.deepcopy(dict(template))
        )
        self.source = source
        self._resource_value = resource_value
        self._conditions = self.template.get("Conditions") or {}

    @property
    def resource_ids(self) -> set[str]:
        return set(self.template["Resources"])

    def created(self, resource_type: str | None = None) -> dict[str, dict[str, Any]]:
        """The resources (of `resource_type`) whose condition holds, as written."""
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if isinstance(resource, dict)
            and resource_type in (None, resource.get("Type"))
            and ("Condition" not in resource or self.condition(resource["Condition"]))
        }

    def condition(self, name: str, where: str = "Conditions") -> bool:
        """The value of the condition `name`."""
        if name not in self._conditions:
            raise TemplateError(f"{self.source}: {where} uses unknown condition {name!r}")
        return bool(self.resolve(self._conditions[name], f"Conditions.{name}"))

    def resolve(self, value: Any, where: str = "") -> Any:
        """`value` with every intrinsic function evaluated (None when it is left out)."""
        resolved = self._resolve(value, where)
        return None if resolved is _LEFT_OUT else resolved

    def _resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            items = (self._resolve(item, f"{where}[{n}]") for n, item in enumerate(value))
            return [item for item in items if item is not _LEFT_OUT]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, arg),) = value.items()
            if name in ("Ref", "Condition") or name.startswith("Fn::"):
                return self._intrinsic(name, arg, where)
        pairs = ((k, self._resolve(v, f"{where}.{k}")) for k, v in value.items())
        return {k: v for k, v in pairs if v is not _LEFT_OUT}

    def _intrinsic(self, name: str, arg: Any, where: str) -> Any:
        match name:
            case "Ref":
                return self._reference(str(arg), None, where)
            case "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self._reference(logical_id, attribute, where)
            case "Fn::If":
                condition, when_true, when_false = arg
                chosen = when_true if self.condition(condition, where) else when_false
                return self._resolve(chosen, where)
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
            case "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(p) for p in self.resolve(parts, where))
            case "Fn::Sub":
                return self._sub(arg, where)
        raise TemplateError(f"{self.source}: {where}: {name} cannot be evaluated here")

    def _reference(self, logical_id: str, attribute: str | None, where: str) -> Any:
        if attribute is None and logical_id == "AWS::NoValue":
            return _LEFT_OUT
        if attribute is None and logical_id in self.values:
            return self.values[logical_id]
        if logical_id in self.resource_ids:
            return self._resource_value(logical_id, attribute)
        shown = logical_id if attribute is None else f"{logical_id}.{attribute}"
        tag = "!Ref" if attribute is None else "!GetAtt"
        raise TemplateError(f"{self.source}: {where}: {tag} {shown} has no local value")

    def _sub(self, arg: Any, where: str) -> str:
        """What samtranslator left of a ``Fn::Sub``: its own variables and resources."""
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        local = {k: self.resolve(v, where) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            logical_id, _, attribute = name.partition(".")
            return str(self._reference(logical_id, attribute or None, where))

        return _REFERENCE.sub(replace, text)
