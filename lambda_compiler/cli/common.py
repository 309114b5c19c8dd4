"""Options and error handling shared by the CLI commands."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import (
    Annotated,
    Any,
    NoReturn,
    ParamSpec,
    Protocol,
    TypeGuard,
    TypeVar,
    get_type_hints,
)

import typer
from rich.console import Console
from rich.markup import escape

from lambda_compiler.problems import Problem

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

OFFLINE_PANEL = "Offline (a rows file, no AWS)"
OPERATE_PANEL = "Operate a deployment (the tables and the bucket)"
LOCAL_PANEL = "Local stack"


@dataclass
class GlobalOptions:
    """The options given before the command (`dynadag --stack prod status`)."""

    stack: str | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    debug: bool = False


OPTIONS = GlobalOptions()


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="text for people, json for tools.")
]


def fail(message: str, *, code: int = 1, hint: str | None = None) -> NoReturn:
    """Print one red line (and an optional hint) to stderr and exit with `code`."""
    print_error(message, hint=hint)
    raise typer.Exit(code)


def print_error(message: str, *, hint: str | None = None) -> None:
    """One red `error:` line, and an optional `hint:` line, on stderr."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err_console.print(f"[dim]hint: {escape(hint)}[/dim]", highlight=False, soft_wrap=True)


def describe_failure(exc: BaseException) -> tuple[str, str | None]:
    """One line (and an optional hint) for an exception no command handled itself."""
    if isinstance(exc, OSError) and exc.strerror:
        names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
        where = f"{' -> '.join(names)}: " if names else ""
        return f"{where}{exc.strerror}", None
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        package = exc.name.split(".")[0]
        return f"the Python package {package!r} is not installed", (
            'install the extra the command needs: pip install "dynadag[local]" for '
            '`dynadag local`, "dynadag[cli]" for the others'
        )
    from lambda_compiler.cli.aws import describe_error, is_aws_error

    if is_aws_error(exc):
        return describe_error(exc)
    text = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}", "run again with --debug for the traceback"


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Run `command`, turning any unexpected exception into one red line and exit 1.

    `dynadag --debug ...` lets the exception (and its traceback) through.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except Exception as exc:
            if OPTIONS.debug or is_usage_error(exc):
                raise
            message, hint = describe_failure(exc)
            fail(message, hint=hint)

    return wrapper


class UsageError(Protocol):
    """click's usage errors (bad option, missing argument...), whichever click typer uses."""

    exit_code: int

    def format_message(self) -> str:
        """The message click prints for the error."""
        ...


def is_usage_error(exc: BaseException) -> TypeGuard[UsageError]:
    """True for click's errors (bad option, missing argument...), whichever click typer uses."""
    return hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int)


def problem_dicts(problems: list[Problem]) -> list[dict[str, str]]:
    """Problems in the one JSON shape every command uses (`Problem.to_dict()`)."""
    return [p.to_dict() for p in problems]


def write_json(data: object) -> None:
    """`data` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def warn(message: str) -> None:
    """One yellow ``warning:`` line on stderr: worth reading, never a failure."""
    err_console.print(
        f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True
    )


def report_problems(problems: list[Problem], output: OutputFormat) -> None:
    """Problems one per line on stderr, or as a JSON list on stdout for tools."""
    if output is OutputFormat.JSON:
        write_json(problem_dicts(problems))
        return
    for problem in problems:
        sys.stderr.write(f"{problem}\n")


def group_callback(command: Callable[..., None]) -> Callable[..., None]:
    """`command` as the callback of a group (`dynadag local`): it runs unless a subcommand
    (`dynadag local env`) was named. The signature is `command`'s plus the context, so the
    group keeps every option `command` declares."""
    signature = inspect.signature(command, eval_str=True)
    context = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )

    def callback(ctx: typer.Context, **options: Any) -> None:
        if ctx.invoked_subcommand is None:
            guarded(command)(**options)

    # typeshed declares no `__signature__` on functions, though `inspect.signature` reads it.
    callback.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[context, *signature.parameters.values()]
    )
    callback.__annotations__ = {
        "ctx": typer.Context,
        **get_type_hints(command, include_extras=True),
    }
    callback.__doc__ = command.__doc__
    return callback


def run(app: typer.Typer) -> NoReturn:
    """Run `app`; a usage error is one `error:` line and a hint naming the `--help`, exit 2."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        print_error("aborted")
        sys.exit(1)
    except Exception as exc:
        if not is_usage_error(exc):
            raise
        if type(exc).__name__ != "NoArgsIsHelpError":  # the help is already printed
            ctx = getattr(exc, "ctx", None)
            hint = f"see `{ctx.command_path} --help`" if ctx is not None else None
            print_error(exc.format_message(), hint=hint)
        sys.exit(exc.exit_code)
    sys.exit(code or 0)
