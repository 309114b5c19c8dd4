"""Outcomes a user sees: no new S3 version without new bytes; a poison row stays local."""

from __future__ import annotations

import pytest

from lambda_compiler.handler import lambda_handler, sync_for
from tests.integration.aws_fixtures import Stack, alert_queue, deliver, received
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def test_a_change_that_does_not_alter_any_dags_bytes_creates_no_new_version(stack: Stack):
    # GIVEN a job and a scheduler already published
    stack.put("task", task("1"), task("2"))
    stack.put("job", job("1", "1,2", name="load"))
    stack.put("scheduler", scheduler("1", "1", name="daily"))
    assert deliver(lambda_handler, stack.records()) == []
    versions = {dag_id: stack.versions(dag_id) for dag_id in stack.files()}
    # WHEN rows are saved again unchanged, or with an attribute the compiler ignores
    stack.put("task", task("1"), task("2", comment="owned by the data team"))
    stack.put("job", job("1", "1,2", name="load"))
    stack.put("scheduler", scheduler("1", "1", name="daily"))
    assert deliver(lambda_handler, stack.records()) == []
    # THEN no DAG file has a new version, and the registry still describes the file the
    # first build wrote (a build that changes nothing writes no registry item)
    assert {dag_id: stack.versions(dag_id) for dag_id in stack.files()} == versions
    assert stack.registry.get_dag("job-load").outcome == "written"
    assert stack.registry.get_dag("job-load").version_id == versions["job-load"][0]


def test_a_poison_row_keeps_its_dags_last_good_file_while_the_others_are_written(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
):
    queue = alert_queue(stack, monkeypatch)
    stack.put("task", task("1"), task("2"), task("3"))
    stack.put("job", job("a", "1"), job("b", "2"), job("c", "3"))
    assert deliver(lambda_handler, stack.records()) == []
    good_b = stack.files()["job-job_b"]
    # WHEN one batch changes all three jobs, and job b's dependencies are not JSON
    stack.put("job", job("a", "1", job_params={"description": "new a"}))
    stack.put("job", job("b", "2", job_task_dependencies='[{"task_id": "2", "pid": '))
    stack.put("job", job("c", "3", job_params={"description": "new c"}))
    stack.put("task", task("3", task_params={"conn_id": "redshift_default", "sql": "SELECT 33;"}))
    failed = deliver(lambda_handler, stack.records())
    # THEN nothing is reported failed, the valid DAGs are written, b keeps its file
    assert failed == []
    files = stack.files()
    expected = stack.expected_files()
    assert files["job-job_a"] == expected["job-job_a"]
    assert files["job-job_c"] == expected["job-job_c"]
    assert "new a" in files["job-job_a"]
    assert "SELECT 33;" in files["job-job_c"]
    assert files["job-job_b"] == good_b
    assert len(stack.versions("job-job_b")) == 1
    # AND the registry names table, key, attribute and reason
    record = stack.registry.get_dag("job-job_b")
    assert record.outcome == "invalid"
    assert record.version_id == stack.versions("job-job_b")[0]
    assert len(record.problems) == 1
    assert record.problems[0].startswith(
        "mwaa_job[job_type='etl', job_id='b']: job_task_dependencies: is not valid JSON"
    )
    # AND exactly one alert names the DAG and the problem
    alerts = received(stack, queue)
    assert len(alerts) == 1
    assert alerts[0]["Subject"] == "dynadag: DAG job-job_b is invalid"
    assert "job_task_dependencies: is not valid JSON" in alerts[0]["Message"]
    # WHEN the same records are delivered again: no new alert, nothing new written
    stack.put("job", job("b", "2", job_task_dependencies='[{"task_id": "2", "pid": '))
    assert deliver(lambda_handler, stack.records()) == []
    assert received(stack, queue) == []
    assert len(stack.versions("job-job_a")) == 2


def test_a_dag_id_claimed_by_two_rows_built_in_different_batches_is_a_problem_for_both(
    stack: Stack,
):
    stack.put("task", task("1"), task("2"))
    stack.put("job", job("a", "1", name="shared"))
    assert deliver(lambda_handler, stack.records()) == []
    first = stack.files()["job-shared"]
    # WHEN another job, in a later batch, takes the same name
    stack.put("job", job("b", "2", name="shared"))
    assert deliver(lambda_handler, stack.records()) == []
    # THEN the DAG is invalid, naming both rows, and the first job's file stays
    record = stack.registry.get_dag("job-shared")
    assert record.outcome == "invalid"
    assert any(
        "also produced by mwaa_job[job_type='etl', job_id='a']" in p for p in record.problems
    )
    assert any(
        "also produced by mwaa_job[job_type='etl', job_id='b']" in p for p in record.problems
    )
    assert stack.files() == {"job-shared": first}
    # WHEN the second job is renamed: both DAGs are valid and published
    stack.put("job", job("b", "2", name="other"))
    assert deliver(lambda_handler, stack.records()) == []
    assert stack.files() == stack.expected_files()
    assert set(stack.files()) == {"job-shared", "job-other"}
    assert stack.registry.get_dag("job-shared").outcome in ("written", "unchanged")


@pytest.mark.parametrize("index", ["job_id-index", ""], ids=["gsi", "scan"])
def test_a_bare_job_id_becomes_ambiguous_when_another_job_type_uses_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, index: str
):
    monkeypatch.setenv("DYNADAG_JOB_ID_INDEX", index)
    stack.put("task", task("1"))
    stack.put("job", job("7", "1"))
    stack.put("scheduler", scheduler("1", "7", name="daily"))
    assert deliver(lambda_handler, stack.records()) == []
    assert stack.registry.get_dag("schedule-daily").outcome == "written"
    # WHEN a job of another type gets the same job_id
    stack.put("job", job("7", "1", name="job_7_ops", job_type="ops"))
    assert deliver(lambda_handler, stack.records()) == []
    # THEN the scheduler listing the bare id is invalid and says how to fix it
    record = stack.registry.get_dag("schedule-daily")
    assert record.outcome == "invalid"
    assert any("write it as job_type:job_id" in problem for problem in record.problems)
    # WHEN the scheduler names the type, it is valid again, with the same bytes as before
    stack.put("scheduler", scheduler("1", "etl:7", name="daily"))
    assert deliver(lambda_handler, stack.records()) == []
    assert stack.files() == stack.expected_files()
    assert stack.registry.get_dag("schedule-daily").outcome == "unchanged"
    assert len(stack.versions("schedule-daily")) == 1
