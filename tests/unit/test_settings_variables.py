"""`settings.VARIABLES` is the one list of DYNADAG_* variables: code, template and README agree."""

from __future__ import annotations

import pytest

from lambda_compiler.generated import stale
from lambda_compiler.local.cfn import load_template
from lambda_compiler.local.resources import DEFAULT_TEMPLATE
from lambda_compiler.settings import (
    VARIABLES,
    Settings,
    SettingsError,
    readme_with_table,
    variables_table,
)
from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"


def test_the_readme_table_is_the_generated_one() -> None:
    problem = stale(README, readme_with_table, "make readme")
    assert problem is None, problem


def test_the_generator_replaces_a_stale_table_between_the_markers() -> None:
    stale = (
        "# x\n<!-- BEGIN environment variables (generated) -->\n| old |\n"
        "<!-- END environment variables -->\nafter\n"
    )
    fresh = readme_with_table(stale)
    assert "| old |" not in fresh
    assert f"-->\n\n{variables_table()}\n<!-- END" in fresh
    assert fresh.endswith("after\n")
    with pytest.raises(ValueError, match="no <!-- BEGIN environment variables"):
        readme_with_table("no markers")


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_each_documented_default_is_what_an_unset_variable_means(variable) -> None:
    unset = {"DYNADAG_BUCKET": "b"}
    if variable.required:
        with pytest.raises(SettingsError, match=variable.name):
            Settings.from_env({})
        return
    explicit = {**unset, variable.name: variable.default or ""}
    assert Settings.from_env(explicit) == Settings.from_env(unset)


def test_the_sam_template_sets_every_variable_for_the_functions() -> None:
    environment = load_template(DEFAULT_TEMPLATE)["Globals"]["Function"]["Environment"]["Variables"]
    assert {name for name in environment if name.startswith("DYNADAG_")} == {
        v.name for v in VARIABLES
    }
