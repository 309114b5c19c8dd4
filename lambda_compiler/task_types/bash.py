"""Runs a shell command on the worker.

Disabled unless the deployment sets `DYNADAG_ALLOW_BASH=true`. Why: a command
from a row runs with everything the worker has, including the MWAA execution
role and every Airflow connection and variable the worker can read. Anyone who can
write `mwaa_task` would get a shell on the workers, which turns "rows are data"
into "rows are code". Turn it on only when the people who write rows could deploy
DAG code anyway. A command ending in `.sh` or `.bash` is refused: Airflow would
look for a template file of that name; write `bash /path/to/script.sh ` (with a
trailing space) instead.
"""

from __future__ import annotations

from pydantic import ValidationInfo, field_validator

from lambda_compiler.params import policy
from lambda_compiler.task_types._shared import NonEmpty, Operator, TaskParams, TaskType


class BashParams(TaskParams):
    """`BASH`: a shell command; only when the deployment enables it."""

    bash_command: NonEmpty
    """the command (Jinja-rendered)"""
    env: dict[str, str] | None = None
    """environment variables (string values); replace the worker's unless `append_env`"""
    append_env: bool = False
    """add `env` to the worker's environment instead of replacing it"""
    cwd: NonEmpty | None = None
    """working directory"""

    @field_validator("bash_command")
    @classmethod
    def _enabled(cls, value: str, info: ValidationInfo) -> str:
        if not policy(info).allow_bash:
            raise ValueError("BASH tasks are disabled in this deployment (DYNADAG_ALLOW_BASH)")
        if value.endswith((".sh", ".bash")):
            raise ValueError(
                "a command ending in .sh or .bash is read by Airflow as a template file name; "
                "run it as 'bash /path/to/script.sh' followed by a space"
            )
        return value


_BASH_OPERATOR = Operator(None, "BashOperator", "bash.py.j2")

TASK_TYPE = TaskType(
    "BASH",
    BashParams,
    lambda _: _BASH_OPERATOR,
    operators=(_BASH_OPERATOR,),
    runs_where="worker (opt-in)",
    examples=(
        {
            "task_id": "102",
            "task_name": "sync_reference_files",
            "task_type": "BASH",
            "status": 1,
            "task_params": {
                "bash_command": "aws s3 sync s3://partner-drop/reference/ "
                "s3://analytics-lake/reference/ --only-show-errors",
                "env": {"AWS_DEFAULT_REGION": "eu-west-1"},
                "append_env": True,
            },
        },
    ),
    defaults={"cwd": "temporary directory"},
)
