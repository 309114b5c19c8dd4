"""Work items, their sharding, run records and the S3 write-rate cap (no AWS)."""

from __future__ import annotations

import json

import pytest

from lambda_compiler.fanout import RunRecord, TokenBucket, Work, WorkItem, WorkItemError
from lambda_compiler.model import DagId
from lambda_compiler.rows import RowRef


def job_ref(job_id: str) -> RowRef:
    return RowRef("mwaa_job", (("job_type", "etl"), ("job_id", job_id)))


def test_a_work_item_reads_back_from_its_message_body() -> None:
    item = WorkItem(
        "rebuild-1",
        3,
        (job_ref("7"), job_ref("a/b=c")),  # key values that need escaping
        ("job-load",),
        (DagId("job-gone"),),
    )

    assert WorkItem.from_body(item.body()) == item
    assert json.loads(item.body())["owners"][0] == "mwaa_job/job_type=etl/job_id=7"
    assert item.names() == ["job-load", "job-gone"]


def test_a_work_item_says_whether_it_is_a_batch_of_a_full_rebuild() -> None:
    full = Work([job_ref("1"), job_ref("2")], planning="full_rebuild").items("r", 1)
    assert [WorkItem.from_body(i.body()).planning for i in full] == ["full_rebuild"] * 2
    # a stream change's rows, and messages written before the field existed: incremental
    assert Work([job_ref("1")]).items("r", 1)[0].planning == "incremental"
    body = json.loads(full[0].body())
    del body["planning"]
    assert WorkItem.from_body(json.dumps(body)).planning == "incremental"


def test_a_batch_without_known_dag_ids_is_named_by_its_rows() -> None:
    assert WorkItem("r", 0, (job_ref("7"),)).names() == ["mwaa_job[job_type='etl', job_id='7']"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"batch_no": 1}',
        '{"run_id": "r", "batch_no": "x"}',
        "[1, 2]",
        '{"run_id": "r", "batch_no": 1, "planning": "fast"}',
    ],
)
def test_a_message_that_is_not_a_work_item_is_refused_with_its_text(body: str) -> None:
    with pytest.raises(WorkItemError, match="not a dynadag work item"):
        WorkItem.from_body(body)


def test_work_is_sharded_into_batches_carrying_their_dag_ids() -> None:
    refs = [job_ref(str(n)) for n in range(7)]
    work = Work(refs, {refs[0]: "job-0", refs[6]: "job-6"}, [DagId("job-gone")])

    items = work.items("run", 3)

    assert [len(i.owners) for i in items] == [3, 3, 1, 0]
    assert [i.batch_no for i in items] == [0, 1, 2, 3]
    assert items[0].dag_ids == ("job-0",) and items[2].dag_ids == ("job-6",)
    assert items[3].gone == ("job-gone",)
    assert {r for i in items for r in i.owners} == set(refs)


def test_a_scheduler_weighs_in_its_batch_as_much_as_the_jobs_it_reads() -> None:
    jobs = [job_ref(str(n)) for n in range(3)]
    small, big, other = (RowRef("mwaa_scheduler", (("schedule_id", s),)) for s in "abc")
    work = Work([*jobs, small, big, other], weights={small: 11, big: 60, other: 11})

    items = work.items("run", 15)

    # three jobs and a scheduler of ten jobs fill one batch; one of 59 jobs is alone
    assert [list(i.owners) for i in items] == [[*jobs, small], [big], [other]]


def test_a_run_is_finished_when_every_batch_is_done_or_failed() -> None:
    assert RunRecord("r", 3, done=2).pending == 1
    assert not RunRecord("r", 3, done=2).finished
    assert RunRecord("r", 3, done=2, failed=1).finished
    assert RunRecord("r", 0).finished


def test_the_token_bucket_holds_writes_to_its_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr("lambda_compiler.fanout.time.sleep", sleep)
    bucket = TokenBucket(10, clock=lambda: now[0])

    for _ in range(30):
        bucket.take()

    # a burst of 10, then one take every 0.1 s: 20 more takes need 2 s
    assert now[0] == pytest.approx(2.0)
    assert len(slept) == 20
