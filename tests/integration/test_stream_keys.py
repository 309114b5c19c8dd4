"""Keys: one model on every path (exact strings), and keys too long for the registry's own."""

from __future__ import annotations

import pytest

from lambda_compiler.handler import lambda_handler, sync_for
from lambda_compiler.rebuild import run_rebuild
from lambda_compiler.rows import RowRef
from tests.integration.aws_fixtures import Stack, deliver
from tests.rowkit import job, scheduler, task

pytestmark = pytest.mark.moto


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def test_padded_keys_give_the_same_outcomes_through_the_stream_and_offline(stack: Stack):
    # GIVEN keys with surrounding spaces: a task, a job and a scheduler
    stack.put("task", task(" 1 ", name="padded_task"), task("2"))
    stack.put(
        "job",
        job(" a ", "2", name="padded_job"),  # its own key is padded; its task is fine
        job("b", " 1 ", name="lists_padded_task"),  # the reference drops the spaces
        job("c", "2", name="plain"),
    )
    stack.put("scheduler", scheduler(" s ", "c", name="padded_scheduler"))
    # WHEN the rows reach the handler
    assert deliver(lambda_handler, stack.records()) == []
    # THEN every DAG has the outcome and problems of the offline compile of the tables
    compiled = stack.compile_tables()
    assert set(compiled.dags) == {
        "job-padded_job",
        "job-lists_padded_task",
        "job-plain",
        "schedule-padded_scheduler",
    }
    for dag_id, dag in compiled.dags.items():
        record = stack.registry.get_dag(dag_id)
        assert record.outcome == ("written" if dag.ok else "invalid"), dag_id
        assert record.problems == tuple(str(problem) for problem in dag.problems)
    assert stack.files() == stack.expected_files()
    # AND a padded key is exact: it is no key without the spaces
    assert not compiled.dags["job-lists_padded_task"].ok
    assert "task '1' does not exist" in stack.registry.get_dag("job-lists_padded_task").problems[0]
    # WHEN a padded job's row changes, its DAG follows
    stack.put("job", job(" a ", "2", name="padded_job", job_params={"retries": 7}))
    assert deliver(lambda_handler, stack.records()) == []
    assert "'retries': 7" in stack.files()["job-padded_job"].replace('"', "'")
    # AND the deploy-time rebuild finds nothing to change
    report = run_rebuild(stack.settings)
    assert report.written == []
    assert set(report.invalid) == {"job-lists_padded_task"}
    assert (report.index_added, report.index_removed) == (0, 0)


def test_keys_too_long_for_the_registry_still_index_the_job_under_its_task(stack: Stack):
    # GIVEN a 1,000-byte non-ASCII job_id and a 1,000-byte task_id (legal DynamoDB keys;
    # percent-encoded in the registry they would pass its key size limits)
    job_id, task_id = "é" * 500, "т" * 500
    assert len(job_id.encode()) == len(task_id.encode()) == 1000
    stack.put("task", task(task_id, name="long_task"))
    stack.put("job", job(job_id, task_id, name="long_keys"))
    assert deliver(lambda_handler, stack.records()) == []
    assert stack.files() == stack.expected_files()
    # THEN the registry lists the job under its task and remembers its row
    job_ref = RowRef(stack.tables.job, (("job_type", "etl"), ("job_id", job_id)))
    assert stack.registry.dependents([f"taskref#{task_id}"]) == {job_ref}
    assert set(stack.registry.scan().states) == {job_ref}
    # WHEN the task changes: the change reaches the job's DAG
    sql = {"conn_id": "redshift_default", "sql": "SELECT 42;"}
    stack.put("task", task(task_id, name="long_task", task_params=sql))
    assert deliver(lambda_handler, stack.records()) == []
    assert "SELECT 42;" in stack.files()["job-long_keys"]
    assert stack.registry.get_dag("job-long_keys").outcome == "written"
    # AND the rebuild reads the hashed entries back as the same rows: nothing to fix
    report = run_rebuild(stack.settings)
    assert (report.index_added, report.index_removed, report.written) == (0, 0, [])
    # WHEN the job is removed: its row state and index entry go with it
    stack.dynamodb.delete_item(
        TableName=stack.tables.job, Key={"job_type": {"S": "etl"}, "job_id": {"S": job_id}}
    )
    assert deliver(lambda_handler, stack.records()) == []
    assert stack.files() == {}
    assert stack.registry.dependents([f"taskref#{task_id}"]) == set()
    assert set(stack.registry.scan().states) == set()


def test_a_dag_id_too_long_for_a_registry_key_is_recorded_under_its_hash(stack: Stack):
    # GIVEN a job whose name is no valid DAG id and whose key-based id is over 2,048 bytes
    job_type = "é" * 1020
    stack.put("task", task("1"))
    stack.put("job", job("1", "1", name="no spaces allowed", job_type=job_type))
    # WHEN it reaches the handler: it is invalid, recorded, and the record not retried
    assert deliver(lambda_handler, stack.records()) == []
    (record,) = stack.registry.list_dags()
    assert record.dag_id == f"job-{job_type}-1"
    assert len(f"dag#{record.dag_id}".encode()) > 2048
    assert record.outcome == "invalid"
    assert stack.registry.get_dag(record.dag_id) == record
