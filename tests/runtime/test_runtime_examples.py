"""`examples/rows-all-types.json` compiles under an opt-in config and loads into Airflow."""

from __future__ import annotations

import pytest

from lambda_compiler.compiler import compile_dags
from lambda_compiler.config import CompilerConfig
from lambda_compiler.rows_file import load_snapshot
from tests.airflow.dagbag import load_dagbag, write_dags
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "rows-all-types.json"
CONFIG = CompilerConfig(python_module_prefixes=("analytics",), allow_bash=True)


def test_without_opt_ins_only_the_python_and_bash_rows_are_refused():
    result = compile_dags(load_snapshot(EXAMPLE))
    refused = {(p.ref.key_text, p.field) for p in result.problems if p.ref.table == "mwaa_task"}
    assert refused == {
        ("task_id='102'", "task_params.bash_command"),
        ("task_id='105'", "task_params.python_callable"),
    }
    assert result.dags["job-session_report"].ok


@pytest.mark.airflow
def test_every_type_group_and_asset_loads_into_airflow(tmp_path, monkeypatch):
    # GIVEN the example's callable module, importable as Airflow would find it in the dags folder
    module = tmp_path / "analytics"
    module.mkdir()
    (module / "__init__.py").write_text("")
    (module / "quality.py").write_text(
        "def check_row_count(table, day, minimum):\n    return table, day, minimum\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = compile_dags(load_snapshot(EXAMPLE), config=CONFIG)
    assert result.problems == []
    folder = tmp_path / "dags"
    folder.mkdir()
    write_dags(result, folder)

    bag = load_dagbag(folder)

    job = bag.dags["job-clickstream_daily"]
    assert sorted(job.task_group_dict) == ["ingest", "publish"]
    assert job.get_task("publish.check_sessions").python_callable.__module__ == "analytics.quality"
    assert [a.uri for a in job.get_task("publish.check_sessions").outlets] == [
        "s3://analytics-lake/marts/sessions"
    ]
    assert len(job.deadline) == 1
    consumer = bag.dags["schedule-session_report_on_update"]
    assert type(consumer.timetable).__name__ == "AssetTriggeredTimetable"


def test_the_cli_reads_the_opt_ins_from_the_environment(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lambda_compiler.cli import app

    out = tmp_path / "dags"
    refused = CliRunner().invoke(app, ["compile", str(EXAMPLE), "--out", str(out)])
    assert refused.exit_code == 1 and "BASH tasks are disabled" in refused.stderr
    monkeypatch.setenv("DYNADAG_PYTHON_MODULE_PREFIXES", "analytics")
    monkeypatch.setenv("DYNADAG_ALLOW_BASH", "true")
    allowed = CliRunner().invoke(app, ["compile", str(EXAMPLE), "--out", str(out)])
    assert allowed.exit_code == 0, allowed.stderr
    assert (
        "from analytics.quality import check_row_count\n"
        in (out / "job-clickstream_daily.py").read_text()
    )


def test_row_order_does_not_change_a_byte(tmp_path):
    import json

    from lambda_compiler.snapshot import snapshot_from_json

    data = json.loads(EXAMPLE.read_text())
    reordered = {table: list(reversed(rows)) for table, rows in data.items()}
    first = compile_dags(snapshot_from_json(data), config=CONFIG)
    second = compile_dags(snapshot_from_json(reordered), config=CONFIG)
    assert {d: r.source for d, r in first.dags.items()} == {
        d: r.source for d, r in second.dags.items()
    }
