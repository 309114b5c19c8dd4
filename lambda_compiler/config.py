"""What a deployment allows row writers to put in a DAG, decided at compile time.

Rows are data written by many people; some task types run code, and every task
names connections, roles or jobs that hold credentials. `CompilerConfig` is where
whoever deploys dynadag says which of those rows may reach. The entry points build
it from the environment (see `from_env`); the core only receives it.

The variables and their defaults are listed in ``lambda_compiler/settings.py``.
The `ALLOWED` lists are comma-separated ``fnmatch`` patterns (S3 entries are
prefixes). Unset or empty means the default; ``*`` means any. The defaults are
Airflow's default connection names plus exactly the names the bundled examples use
(their account ``123456789012`` is AWS's documentation placeholder), so a fresh
deployment compiles the examples and little else: set each list for production.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lambda_compiler.targets import DEFAULT_TARGET, AirflowTarget, TargetError, target_for

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_TRUE = ("1", "true", "yes")
_BOOL = ("", "0", "false", "no", *_TRUE)
_JINJA_MARKERS = ("{{", "{%", "{#")


class ConfigError(ValueError):
    """A compiler setting is malformed; the message names the variable."""


def module_under(module: str, prefixes: tuple[str, ...]) -> bool:
    """True when `module` equals one of `prefixes` or lies below one (``etl`` ⊃ ``etl.x``)."""
    return any(module == prefix or module.startswith(f"{prefix}.") for prefix in prefixes)


@dataclass(frozen=True)
class Allowlist:
    """Values a deployment allows for one kind of reference, read from `variable`.

    Patterns are ``fnmatch`` globs, or with `prefixes` plain prefixes; ``*`` allows
    any value. A value containing Jinja is only allowed by ``*``: it would be chosen
    when the task runs, after the check.
    """

    variable: str
    patterns: tuple[str, ...]
    prefixes: bool = False

    @property
    def allows_any(self) -> bool:
        return "*" in self.patterns

    def allows(self, value: str) -> bool:
        """True when `value` matches a pattern (or starts with a prefix)."""
        if self.allows_any:
            return True
        if any(marker in value for marker in _JINJA_MARKERS):
            return False
        if self.prefixes:
            return value.startswith(self.patterns)
        return any(fnmatch.fnmatchcase(value, pattern) for pattern in self.patterns)

    def refusal(self, what: str, value: str) -> str | None:
        """Why `value` is not allowed, naming the setting to change; None when it is."""
        if self.allows(value):
            return None
        if any(marker in value for marker in _JINJA_MARKERS):
            return (
                f"{what} {value!r} uses Jinja, so it would be chosen at run time; write the name "
                f"itself (or set {self.variable}=* to allow any)"
            )
        listed = ", ".join(self.patterns) or "(none)"
        return f"{what} {value!r} is not allowed in this deployment ({self.variable}: {listed})"


CONN_IDS = Allowlist(
    "DYNADAG_ALLOWED_CONN_IDS",
    ("redshift_default", "aws_default", "crm_postgres", "reporting_postgres"),
)
SLACK_CONN_IDS = Allowlist("DYNADAG_ALLOWED_SLACK_CONN_IDS", ("slack_data_alerts",))
IAM_ROLE_ARNS = Allowlist(
    "DYNADAG_ALLOWED_IAM_ROLE_ARNS", ("arn:aws:iam::123456789012:role/emr-serverless-jobs",)
)
S3_CODE_PREFIXES = Allowlist(
    "DYNADAG_ALLOWED_S3_CODE_PREFIXES", ("s3://analytics-code/spark/",), prefixes=True
)
GLUE_JOBS = Allowlist("DYNADAG_ALLOWED_GLUE_JOBS", ("clickstream-raw-to-parquet",))
REDSHIFT_SECRET_ARNS = Allowlist(
    "DYNADAG_ALLOWED_REDSHIFT_SECRET_ARNS",
    ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-etl-*",),
)
_ALLOWLISTS = {
    "conn_ids": CONN_IDS,
    "slack_conn_ids": SLACK_CONN_IDS,
    "iam_role_arns": IAM_ROLE_ARNS,
    "s3_code_prefixes": S3_CODE_PREFIXES,
    "glue_jobs": GLUE_JOBS,
    "redshift_secret_arns": REDSHIFT_SECRET_ARNS,
}
_ENTRY_SHAPES = {
    "DYNADAG_ALLOWED_IAM_ROLE_ARNS": "arn:",
    "DYNADAG_ALLOWED_REDSHIFT_SECRET_ARNS": "arn:",
    "DYNADAG_ALLOWED_S3_CODE_PREFIXES": "s3://",
}


@dataclass(frozen=True)
class CompilerConfig:
    """The deployment's compile settings: the Airflow release to compile for, code-running
    task types, and what rows may reference.

    A `PYTHON` callable is allowed when its module equals a prefix or lies below it:
    prefix ``etl`` allows ``etl.run`` and ``etl.jobs.load.run``, never ``etl_other.run``.
    The compiler cannot see what an allowed module re-exports (``etl.system`` works
    if ``etl/__init__.py`` does ``from os import system``): keeping allowed packages
    free of such names is the deployer's part.
    """

    python_module_prefixes: tuple[str, ...] = ()
    allow_bash: bool = False
    allow_secrets_jinja: bool = False
    conn_ids: Allowlist = CONN_IDS
    slack_conn_ids: Allowlist = SLACK_CONN_IDS
    iam_role_arns: Allowlist = IAM_ROLE_ARNS
    s3_code_prefixes: Allowlist = S3_CODE_PREFIXES
    glue_jobs: Allowlist = GLUE_JOBS
    redshift_secret_arns: Allowlist = REDSHIFT_SECRET_ARNS
    airflow: AirflowTarget = DEFAULT_TARGET

    def __post_init__(self) -> None:
        for prefix in self.python_module_prefixes:
            if not _MODULE.match(prefix):
                raise ConfigError(f"{prefix!r} is not a dotted Python module name")

    def allows_module(self, module: str) -> bool:
        """True when `module` is one of the configured prefixes or below one."""
        return module_under(module, self.python_module_prefixes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CompilerConfig:
        """From the ``DYNADAG_*`` variables (table in ``lambda_compiler/settings.py``)."""
        raw = environ.get("DYNADAG_PYTHON_MODULE_PREFIXES", "")
        prefixes = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
        allowlists = {
            name: _allowlist_from_env(environ, default) for name, default in _ALLOWLISTS.items()
        }
        allow_bash = _flag(environ, "DYNADAG_ALLOW_BASH")
        allow_secrets_jinja = _flag(environ, "DYNADAG_ALLOW_SQL_SECRETS_JINJA")
        airflow = DEFAULT_TARGET
        if version := environ.get("DYNADAG_AIRFLOW_VERSION", "").strip():
            try:
                airflow = target_for(version)
            except TargetError as exc:
                raise ConfigError(f"DYNADAG_AIRFLOW_VERSION: {exc}") from None
        try:
            return cls(prefixes, allow_bash, allow_secrets_jinja, **allowlists, airflow=airflow)
        except ConfigError as exc:
            raise ConfigError(f"DYNADAG_PYTHON_MODULE_PREFIXES: {exc}") from None


def _flag(environ: Mapping[str, str], variable: str) -> bool:
    value = environ.get(variable, "").strip().lower()
    if value not in _BOOL:
        raise ConfigError(f"{variable} must be true or false, got {value!r}")
    return value in _TRUE


def _allowlist_from_env(environ: Mapping[str, str], default: Allowlist) -> Allowlist:
    """The list in `default.variable`, or `default` when it is unset or empty."""
    raw = environ.get(default.variable, "")
    entries = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    if not entries:
        return default
    start = _ENTRY_SHAPES.get(default.variable, "")
    for entry in entries:
        if entry == "*":
            continue
        if not entry.startswith(start):
            raise ConfigError(f"{default.variable}: {entry!r} does not start with {start!r}")
        if default.prefixes and not entry.endswith("/"):
            raise ConfigError(
                f"{default.variable}: {entry!r} must end with '/' (a prefix like "
                "'s3://bucket/code/'), so it cannot also match 's3://bucket/code-other/'"
            )
    return Allowlist(default.variable, entries, default.prefixes)


DEFAULT_CONFIG = CompilerConfig()
"""No code-running task types, no Jinja reading secrets, the default allowlists."""
