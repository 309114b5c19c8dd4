"""`dynadag rollback`: make an older S3 version of a DAG file current again, and pin it.

A rollback pins the DAG by default: builds (row changes, `dynadag rebuild`, deploys)
compile its rows and record the result, but leave the restored file in place until
`dynadag rollback --release DAG`. `--until-next-change` restores without pinning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lambda_compiler.cli.aws import Aws, aws_command, connect
from lambda_compiler.cli.common import FormatOption, OutputFormat, fail, write_json
from lambda_compiler.cli.files import DagIdArgument
from lambda_compiler.cli.output import say
from lambda_compiler.cli.versions import (
    Version,
    VersionError,
    current_file,
    dag_key,
    dag_versions,
    files,
    pick,
    version_metadata,
)
from lambda_compiler.file_metadata import rollback_metadata
from lambda_compiler.model import DagId
from lambda_compiler.outcome import Outcome

if TYPE_CHECKING:
    from lambda_compiler.settle import DagReport


@aws_command
def rollback(
    dag_id: DagIdArgument,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Version to restore: a number from `dynadag history`, or a version id."
        ),
    ] = None,
    until_next_change: Annotated[
        bool,
        typer.Option(
            "--until-next-change",
            help="Do not pin: the next change to the DAG's rows (or a rebuild) replaces it.",
        ),
    ] = False,
    release: Annotated[
        bool,
        typer.Option(
            "--release",
            help="End a pin: publish what the DAG's rows compile to now.",
        ),
    ] = False,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Restore an older version as the current file (default: the previous one) and pin it.

    Works for a deleted DAG too. The old bytes are copied as a new S3 version, so the
    history keeps everything; the registry records the rollback. While pinned, builds
    leave the file in place (`dynadag status` shows what the rows would publish);
    `--release` ends the pin.
    """
    from lambda_compiler.publish import CONTENT_TYPE
    from lambda_compiler.registry import Registry

    if release and (to or until_next_change):
        fail("--release takes no --to or --until-next-change", code=2)
    aws = connect()
    if release:
        _release(aws, DagId(dag_id))
        return
    settings = aws.settings
    try:
        versions = dag_versions(aws.s3, settings, dag_id)
        target = pick(versions, dag_id, to) if to else _previous(versions, dag_id)
    except VersionError as exc:
        fail(str(exc))
    current = current_file(versions)
    if current is not None and current.version_id == target.version_id:
        fail(f"version #{target.number} of DAG {dag_id!r} is already current")
    metadata = version_metadata(aws.s3, settings, dag_id, target)
    key = dag_key(settings, dag_id)
    copied = aws.s3.copy_object(
        Bucket=settings.bucket,
        Key=key,
        CopySource={"Bucket": settings.bucket, "Key": key, "VersionId": target.version_id},
        MetadataDirective="REPLACE",
        Metadata=rollback_metadata(metadata, target.version_id),
        ContentType=CONTENT_TYPE,
    )
    pin = not until_next_change
    Registry(aws.dynamodb, settings.registry_table).record_rollback(
        dag_id,
        version_id=copied.get("VersionId") or "",
        sha256=metadata.get("sha256", ""),
        restored_from=target.version_id,
        pin=pin,
        by=_caller(aws) if pin else None,
    )
    number = len(versions) + 1
    if output is OutputFormat.JSON:
        write_json(
            {
                "dag_id": dag_id,
                "restored": {"number": target.number, "version_id": target.version_id},
                "current": {"number": number, "version_id": copied.get("VersionId")},
                "pinned": pin,
            }
        )
    else:
        say(
            f"rolled back {dag_id}: version #{target.number} "
            f"({target.modified:%Y-%m-%d %H:%M:%S}) is current again as version #{number}"
        )
    if pin:
        say(
            f"pinned: row changes and rebuilds leave this file in place until "
            f"`dynadag rollback --release {dag_id}`",
            style="yellow",
            err=True,
        )
    else:
        say(
            "warning: the next change to this DAG's rows (or a rebuild) recompiles it and "
            "replaces this rollback; fix the rows to keep it.",
            style="yellow",
            err=True,
        )


def _release(aws: Aws, dag_id: DagId) -> None:
    """Clear the pin, then build the DAG from its current rows as a row change would."""
    from lambda_compiler.plan import Change
    from lambda_compiler.rows import RowRef
    from lambda_compiler.sync import build_sync

    sync = build_sync(aws.settings, session=aws.session)
    record = sync.registry.get_dag(dag_id)
    if record is None or not record.pinned:
        fail(f"DAG {dag_id!r} is not pinned", hint="`dynadag status` shows pinned DAGs")
    sync.registry.release_pin(dag_id)
    owners = sorted(RowRef.from_address(address) for address in record.claims)
    if owners:
        report = sync.apply(
            [Change(sync.source.kind(ref), ref, frozenset({ref})) for ref in owners]
        )
        if report.failed or report.dropped or dag_id not in report.dags:
            fail(
                f"released {dag_id}, but its build did not finish",
                hint="`dynadag rebuild` builds it again",
            )
        built = report.dags[dag_id]
    else:
        built = sync.settler.settle(dag_id, None, sync.registry.get_dag(dag_id))
    _say_released(built)


def _say_released(built: DagReport) -> None:
    dag_id = built.dag_id
    match built.outcome:
        case Outcome.WRITTEN:
            say(f"released {dag_id}: published the compile of its current rows")
        case Outcome.UNCHANGED:
            say(f"released {dag_id}: its current rows compile to the file already in place")
        case Outcome.DELETED:
            say(f"released {dag_id}: its rows no longer produce it; the file is deleted")
        case Outcome.INVALID:
            for problem in built.problems:
                say(f"{dag_id}: {problem}", style="red", err=True)
            fail(f"released {dag_id}, but its rows are invalid: the rolled-back file stays")
        case _:
            fail(f"released {dag_id}, but its build failed: {built.error}")


def _caller(aws: Aws) -> str | None:
    """Who is rolling back: the caller's ARN (one STS call, which needs no permission)."""
    arn: str | None = aws.client("sts").get_caller_identity().get("Arn")
    return arn


def _previous(versions: list[Version], dag_id: str) -> Version:
    """The newest file before the current one, or the last file of a deleted DAG."""
    stored = files(versions)
    if current_file(versions) is None:
        if not stored:
            raise VersionError(f"DAG {dag_id!r} has no stored file to restore")
        return stored[-1]
    if len(stored) < 2:
        raise VersionError(f"DAG {dag_id!r} has only one version: nothing to roll back to")
    return stored[-2]
