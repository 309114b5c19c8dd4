"""YAML rows files read as JSON would be: plain scalars, `Decimal` numbers, no aliases.

Kept apart from `rows_file` so that reading JSON (and starting the CLI) needs no PyYAML.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from decimal import Decimal
from typing import Any, ClassVar

import yaml

from lambda_compiler.limits import MAX_DEPTH
from lambda_compiler.snapshot import RowsFileError


class _YamlLoader(yaml.SafeLoader):
    """YAML read as JSON would be: plain scalars, `Decimal` numbers, text keys, no aliases."""

    # No implicit resolvers: every plain scalar is text. types-PyYAML declares this
    # class-level table (PyYAML's resolvers are per class) as an instance variable.
    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}  # type: ignore[misc]

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            raise RowsFileError(
                f"anchors and aliases (&, *) are not supported, at line {_line(self.peek_event())}"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Hashable, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise RowsFileError(f"expected a mapping at line {_line(node)}")
        found: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise RowsFileError(f"a key at line {_line(key_node)} is not text")
            key = key_node.value
            if key in found:
                raise RowsFileError(
                    f"key {key!r} appears twice in the same mapping, at line {_line(key_node)}"
                )
            found[key] = self.construct_object(value_node, deep=deep)
        return found


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _yaml_number(loader: _YamlLoader, node: Any) -> Decimal:
    return Decimal(loader.construct_scalar(node))


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$"),
    list("-0123456789"),
)
_YamlLoader.add_constructor("tag:yaml.org,2002:int", _yaml_number)
_YamlLoader.add_constructor("tag:yaml.org,2002:float", _yaml_number)


def parse_yaml(text: str) -> Any:
    """The data of a YAML rows file; `RowsFileError` says what and where on bad YAML."""
    try:
        data = yaml.load(text, Loader=_YamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise RowsFileError(f"not valid YAML: {exc.problem or exc.context}{where}") from None
    except yaml.YAMLError as exc:
        raise RowsFileError(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise RowsFileError(f"nested too deeply (DynamoDB allows {MAX_DEPTH} levels)") from None
    return data
