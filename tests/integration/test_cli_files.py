"""`dynadag ls`, `show`, `history`, `diff` against the versioned bucket on a moto server."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.cli import versions as versions_module
from lambda_compiler.cli.aws import Aws
from tests.cli_stack import CliStack, make_stack
from tests.integration.aws_fixtures import count_requests
from tests.rowkit import job, task

pytestmark = pytest.mark.moto
runner = CliRunner()


def _rows(sql: str = "SELECT 1;", *, jobs: tuple[str, ...] = ("load", "report")) -> dict:
    listed = {"load": job("1", "1", name="load"), "report": job("2", "2", name="report")}
    return {
        "mwaa_task": [
            task("1", task_params={"conn_id": "redshift_default", "sql": sql}),
            task("2"),
        ],
        "mwaa_job": [listed[name] for name in jobs],
    }


@pytest.fixture
def cli_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Counter[str]]]:
    """API calls made by the clients the CLI creates, as ``"s3.ListObjectVersions": n``."""
    counters: list[Counter[str]] = []
    make = Aws.client
    with ExitStack() as exits:

        def counted_client(aws: Aws, service: str) -> Any:
            client = make(aws, service)
            counters.append(exits.enter_context(count_requests(client)))
            return client

        monkeypatch.setattr(Aws, "client", counted_client)
        yield lambda: sum(counters, Counter())


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> CliStack:
    stack = make_stack(moto_endpoint, monkeypatch)
    stack.apply(_rows("SELECT 1;"))
    stack.apply(_rows("SELECT 2;"))
    return stack


def test_ls_lists_each_dag_from_the_registry_and_the_other_files_without_old_versions(
    stack: CliStack, cli_calls: Callable[[], Counter[str]]
) -> None:
    stack.apply(_rows("SELECT 2;", jobs=("load",)))

    result = runner.invoke(app, ["ls"])

    assert result.exit_code == 0, result.output
    assert cli_calls()["s3.ListObjectVersions"] == 0
    assert cli_calls()["s3.ListObjectsV2"] == 1
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert lines[0] == ["file", "kind", "state", "outcome", "size", "last change (UTC)", "sha256"]
    rows = {cells[0]: cells for cells in lines[1:]}
    assert {name for name in rows if name.endswith(".py") and "/" not in name} == {
        "job-load.py",
        "job-report.py",
    }
    body = stack.body("job-load").encode()
    # the last apply left job-load as it was: its outcome stays that of the write
    assert rows["job-load.py"][1:5] == ["job", "current", "written", str(len(body))]
    assert rows["job-load.py"][6] == hashlib.sha256(body).hexdigest()[:12]
    assert rows["job-report.py"][1:5] == ["job", "deleted", "deleted", ""]
    assert rows[".airflowignore"][1:4] == ["", "current", ""]  # not a DAG: no registry record


def test_ls_shows_files_the_registry_does_not_know_and_dags_without_a_file(
    stack: CliStack,
) -> None:
    rows = _rows("SELECT 2;")
    rows["mwaa_job"].append(job("3", "99", name="broken"))  # lists a task that does not exist
    stack.apply(rows)
    key = f"{stack.settings.dags_prefix}hand_written.py"
    stack.s3.put_object(Bucket=stack.settings.bucket, Key=key, Body=b"# by hand\n")

    result = runner.invoke(app, ["ls", "--format", "json"])

    assert result.exit_code == 0, result.output
    entries = {e["file"]: e for e in json.loads(result.stdout)}
    hand = entries["hand_written.py"]
    assert hand["dag_id"] is None and hand["kind"] is None
    assert (hand["state"], hand["size"]) == ("current", 10)
    broken = entries["job-broken.py"]
    assert (broken["state"], broken["outcome"], broken["size"]) == ("no file", "invalid", None)


def test_show_prints_the_current_file_exactly_when_piped(stack: CliStack) -> None:
    result = runner.invoke(app, ["show", "job-load"])

    assert result.exit_code == 0, result.output
    assert result.stdout == stack.body("job-load")
    assert "SELECT 2;" in result.stdout


def test_show_version_one_is_the_oldest_file(stack: CliStack) -> None:
    result = runner.invoke(app, ["show", "job-load", "--s3-version", "1"])

    assert result.exit_code == 0, result.output
    assert "SELECT 1;" in result.stdout
    assert "SELECT 2;" not in result.stdout


def test_show_accepts_an_s3_version_id(stack: CliStack) -> None:
    oldest = stack.versions("job-load")[-1]["VersionId"]

    result = runner.invoke(app, ["show", "job-load", "--s3-version", oldest])

    assert result.exit_code == 0, result.output
    assert "SELECT 1;" in result.stdout


def test_history_lists_time_size_sha256_and_source_rows(stack: CliStack) -> None:
    result = runner.invoke(app, ["history", "job-load"])

    assert result.exit_code == 0, result.output
    header, first, second = (line.split("\t") for line in result.stdout.splitlines())
    assert header == ["#", "time (UTC)", "size", "sha256", "version id", "source rows"]
    body = stack.body("job-load").encode()
    assert second[0] == "2"
    assert second[2] == str(len(body))
    assert second[3] == hashlib.sha256(body).hexdigest()[:12] + " (current)"
    assert second[5] == "mwaa_job[job_type='etl', job_id='1'], mwaa_task[task_id='1']"
    assert first[0] == "1"
    assert first[3] != second[3]
    assert [first[4], second[4]] == [v["VersionId"] for v in stack.versions("job-load")[::-1]]


def test_history_shows_a_delete_marker(stack: CliStack) -> None:
    stack.apply(_rows("SELECT 2;", jobs=("report",)))

    result = runner.invoke(app, ["history", "job-load"])

    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1].split("\t")
    assert last[0] == "3"
    assert last[3] == "deleted"


def _add_versions(stack: CliStack, count: int) -> list[str]:
    """`count` more versions of job-load's file; all its version ids, newest first."""
    key = f"{stack.settings.dags_prefix}job-load.py"
    for n in range(count):
        stack.s3.put_object(Bucket=stack.settings.bucket, Key=key, Body=f"# {n}\n".encode())
    return [v["VersionId"] for v in stack.versions("job-load")]


def test_history_reads_one_page_of_versions_for_its_limit(
    stack: CliStack, cli_calls: Callable[[], Counter[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    newest_first = _add_versions(stack, 6)
    monkeypatch.setattr(versions_module, "_PAGE_SIZE", 3)

    result = runner.invoke(app, ["history", "job-load", "--limit", "2"])

    assert result.exit_code == 0, result.output
    assert cli_calls()["s3.ListObjectVersions"] == 1  # of 3 pages
    assert cli_calls()["s3.HeadObject"] == 2
    _, older, newer = (line.split("\t") for line in result.stdout.splitlines())
    assert [older[4], newer[4]] == newest_first[1::-1]
    assert older[0] == newer[0] == ""  # numbers count from the oldest, not read
    assert "older ones exist" in result.stderr


def test_history_all_pages_through_every_version(
    stack: CliStack, cli_calls: Callable[[], Counter[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    newest_first = _add_versions(stack, 6)
    monkeypatch.setattr(versions_module, "_PAGE_SIZE", 3)

    result = runner.invoke(app, ["history", "job-load", "--all", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert cli_calls()["s3.ListObjectVersions"] == 3
    shown = json.loads(result.stdout)
    assert [v["number"] for v in shown] == list(range(1, 9))
    assert [v["version_id"] for v in shown] == newest_first[::-1]


def test_history_shows_the_newest_versions_with_their_numbers_by_default(
    stack: CliStack, cli_calls: Callable[[], Counter[str]]
) -> None:
    newest_first = _add_versions(stack, 23)

    result = runner.invoke(app, ["history", "job-load"])

    assert result.exit_code == 0, result.output
    assert cli_calls()["s3.ListObjectVersions"] == 1
    assert cli_calls()["s3.HeadObject"] == 20
    rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]
    assert [row[0] for row in rows] == [str(n) for n in range(6, 26)]
    assert [row[4] for row in rows] == newest_first[19::-1]
    assert "#1..#5 are older (--all shows them)" in result.stderr


def test_history_all_with_a_limit_is_a_usage_error(stack: CliStack) -> None:
    result = runner.invoke(app, ["history", "job-load", "--all", "--limit", "3"])

    assert result.exit_code == 2
    assert "--all takes no --limit" in result.stderr


def test_diff_defaults_to_previous_versus_current(stack: CliStack) -> None:
    result = runner.invoke(app, ["diff", "job-load"])

    assert result.exit_code == 0, result.output
    assert "--- job-load.py #1" in result.stdout
    assert "+++ job-load.py #2" in result.stdout
    assert '-        sql="SELECT 1;",' in result.stdout
    assert '+        sql="SELECT 2;",' in result.stdout


def test_diff_between_named_versions_in_either_order(stack: CliStack) -> None:
    result = runner.invoke(app, ["diff", "job-load", "2", "1"])

    assert result.exit_code == 0, result.output
    assert '-        sql="SELECT 2;",' in result.stdout
    assert '+        sql="SELECT 1;",' in result.stdout


def test_diff_of_a_dag_with_one_version_says_so(stack: CliStack) -> None:
    result = runner.invoke(app, ["diff", "job-report"])

    assert result.exit_code == 1
    assert "has no version before #1" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["show"], ["history"], ["diff"], ["rollback"]])
def test_unknown_dag_is_one_clear_error(stack: CliStack, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "job-nope"])

    assert result.exit_code == 1
    assert "unknown DAG 'job-nope'" in result.stderr
    assert f"{stack.settings.dags_prefix}job-nope.py" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args",
    [["show", "job-load", "--s3-version", "7"], ["diff", "job-load", "1", "zzzz"]],
)
def test_unknown_version_is_one_clear_error(stack: CliStack, args: list[str]) -> None:
    result = runner.invoke(app, args)

    assert result.exit_code == 1
    assert "does not exist: use 1..2 or a version id" in result.stderr
    assert "Traceback" not in result.output


def test_show_of_a_deleted_dag_points_to_history(stack: CliStack) -> None:
    stack.apply(_rows("SELECT 2;", jobs=("report",)))

    result = runner.invoke(app, ["show", "job-load"])

    assert result.exit_code == 1
    assert "DAG 'job-load' is deleted" in result.stderr
    assert "dynadag history job-load" in result.stderr


def test_show_and_diff_are_syntax_highlighted_on_a_terminal(stack: CliStack) -> None:
    dynadag = str(Path(sys.executable).parent / "dynadag")
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "120"}

    shown = subprocess.run(
        [dynadag, "show", "job-load"], env=env, capture_output=True, text=True, check=True
    )
    diffed = subprocess.run(
        [dynadag, "diff", "job-load"], env=env, capture_output=True, text=True, check=True
    )

    for output in (shown.stdout, diffed.stdout):
        assert "\x1b[" in output
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown.stdout)
    assert [line.rstrip() for line in plain.splitlines()] == stack.body("job-load").splitlines()


def test_a_short_number_is_a_history_number_never_an_id_prefix() -> None:
    from lambda_compiler.cli.versions import Version, VersionError, pick

    versions = [
        Version(number=n, version_id=vid, modified=None, size=1, is_latest=n == 2, deleted=False)
        for n, vid in ((1, "7f3a9c0e"), (2, "9b21d4aa"))
    ]
    assert pick(versions, "job-load", "2").version_id == "9b21d4aa"
    assert pick(versions, "job-load", "7f3a9c").number == 1  # a long enough id prefix
    for wanted in ("7", "9"):
        with pytest.raises(VersionError, match=r"does not exist: use 1\.\.2"):
            pick(versions, "job-load", wanted)


def test_ls_history_show_and_rollback_print_json_for_tools(stack: CliStack) -> None:
    current = stack.body("job-load").encode()
    listing = json.loads(runner.invoke(app, ["ls", "--format", "json"]).stdout)
    history = json.loads(runner.invoke(app, ["history", "job-load", "--format", "json"]).stdout)
    oldest = json.loads(
        runner.invoke(app, ["show", "job-load", "-v", "1", "--format", "json"]).stdout
    )
    rolled = runner.invoke(app, ["rollback", "job-load", "--format", "json"])

    load = next(entry for entry in listing if entry["file"] == "job-load.py")
    assert (load["dag_id"], load["state"], load["outcome"]) == ("job-load", "current", "written")
    assert load["version_id"] == history[1]["version_id"]
    assert [v["number"] for v in history] == [1, 2]
    assert history[1]["current"] and not history[0]["current"]
    assert history[1]["sha256"] == hashlib.sha256(current).hexdigest()
    assert history[1]["source_rows"] == [
        "mwaa_job[job_type='etl', job_id='1']",
        "mwaa_task[task_id='1']",
    ]
    assert oldest["number"] == 1 and "SELECT 1;" in oldest["source"]
    assert rolled.exit_code == 0, rolled.output
    assert json.loads(rolled.stdout) == {
        "dag_id": "job-load",
        "restored": {"number": 1, "version_id": history[0]["version_id"]},
        "current": {"number": 3, "version_id": stack.versions("job-load")[0]["VersionId"]},
        "pinned": True,
    }
