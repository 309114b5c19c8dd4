"""`dynadag rollback`: make an older S3 version of a DAG file current again."""

from __future__ import annotations

from typing import Annotated

import typer

from lambda_compiler.cli.aws import aws_command, connect
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


@aws_command
def rollback(
    dag_id: DagIdArgument,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Version to restore: a number from `dynadag history`, or a version id."
        ),
    ] = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Restore an older version as the current file (default: the previous one).

    Works for a deleted DAG too. The old bytes are copied as a new S3 version, so
    the history keeps everything; the registry records the rollback.
    """
    from lambda_compiler.registry import Registry

    aws = connect()
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
        MetadataDirective="COPY",
    )
    new_version = copied.get("VersionId") or ""
    Registry(aws.dynamodb, settings.registry_table).record_rollback(
        dag_id,
        version_id=new_version,
        sha256=metadata.get("sha256", ""),
        restored_from=target.version_id,
    )
    number = len(versions) + 1
    if output is OutputFormat.JSON:
        write_json(
            {
                "dag_id": dag_id,
                "restored": {"number": target.number, "version_id": target.version_id},
                "current": {"number": number, "version_id": new_version},
            }
        )
    else:
        say(
            f"rolled back {dag_id}: version #{target.number} "
            f"({target.modified:%Y-%m-%d %H:%M:%S}) is current again as version #{number}"
        )
    say(
        "warning: the next change to this DAG's rows recompiles it and replaces this "
        "rollback; fix the rows to keep it.",
        style="yellow",
        err=True,
    )


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
