"""What a deployment allows row writers to put in a DAG, decided at compile time.

Rows are data written by many people; some task types run code. `CompilerConfig`
is where whoever deploys dynadag opts in to them. The entry points build it from
the environment (see `from_env`); the core only receives it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from lambda_compiler.targets import DEFAULT_TARGET, AirflowTarget, TargetError, target_for

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class ConfigError(ValueError):
    """A compiler setting is malformed; the message names the variable."""


@dataclass(frozen=True)
class CompilerConfig:
    """The Airflow release to compile for, and opt-ins for task types that run code.

    A module is allowed when it equals a prefix or lies below it: prefix ``etl``
    allows ``etl`` and ``etl.jobs.load``, never ``etl_other``.
    """

    python_module_prefixes: tuple[str, ...] = ()
    allow_bash: bool = False
    airflow: AirflowTarget = DEFAULT_TARGET

    def __post_init__(self) -> None:
        for prefix in self.python_module_prefixes:
            if not _MODULE.match(prefix):
                raise ConfigError(f"{prefix!r} is not a dotted Python module name")

    def allows_module(self, module: str) -> bool:
        """True when `module` is one of the configured prefixes or below one."""
        return any(
            module == prefix or module.startswith(f"{prefix}.")
            for prefix in self.python_module_prefixes
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CompilerConfig:
        """From ``DYNADAG_AIRFLOW_VERSION``, ``DYNADAG_PYTHON_MODULE_PREFIXES`` (comma-separated)
        and ``DYNADAG_ALLOW_BASH``."""
        raw = environ.get("DYNADAG_PYTHON_MODULE_PREFIXES", "")
        prefixes = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
        bash = environ.get("DYNADAG_ALLOW_BASH", "").strip().lower()
        if bash not in ("", "0", "1", "true", "false", "yes", "no"):
            raise ConfigError(f"DYNADAG_ALLOW_BASH must be true or false, got {bash!r}")
        airflow = DEFAULT_TARGET
        if version := environ.get("DYNADAG_AIRFLOW_VERSION", "").strip():
            try:
                airflow = target_for(version)
            except TargetError as exc:
                raise ConfigError(f"DYNADAG_AIRFLOW_VERSION: {exc}") from None
        try:
            return cls(
                python_module_prefixes=prefixes,
                allow_bash=bash in ("1", "true", "yes"),
                airflow=airflow,
            )
        except ConfigError as exc:
            raise ConfigError(f"DYNADAG_PYTHON_MODULE_PREFIXES: {exc}") from None


DEFAULT_CONFIG = CompilerConfig()
"""Nothing that runs code is allowed: no `PYTHON` module prefixes, no `BASH`."""
