"""`batch_get`: one set of consistent reads across tables, beyond the 100-key call limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lambda_compiler import batch_get as batch_get_module
from lambda_compiler.aws_errors import RetryableError, is_transient
from lambda_compiler.batch_get import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    BATCH_ATTEMPTS,
    batch_get,
)
from lambda_compiler.registry import Registry
from lambda_compiler.rows import RowRef
from tests.integration.aws_fixtures import client, create_stack

pytestmark = pytest.mark.moto


def test_keys_of_two_tables_beyond_one_call_are_all_read_once(moto_endpoint: str):
    dynamodb = client("dynamodb", moto_endpoint)
    # GIVEN 150 items in table "a" and 30 in table "b"
    for table, count in (("a", 150), ("b", 30)):
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(count):
            dynamodb.put_item(TableName=table, Item={"id": {"S": f"{table}{i}"}})
    # WHEN all of them, plus 5 keys that do not exist, are asked for (185 keys)
    keys = {
        "a": [{"id": {"S": f"a{i}"}} for i in range(150)],
        "b": [{"id": {"S": f"b{i}"}} for i in range(35)],
    }
    with ThreadPoolExecutor(4) as pool:
        answers = [batch_get(dynamodb, keys), batch_get(dynamodb, keys, pool)]
    # THEN every existing item comes back exactly once, per table, with or without a pool
    for found in answers:
        assert sorted(item["id"]["S"] for item in found["a"]) == sorted(f"a{i}" for i in range(150))
        assert sorted(item["id"]["S"] for item in found["b"]) == sorted(f"b{i}" for i in range(30))


class Throttle:
    """Makes DynamoDB answer the first `times` batch calls of `client` as if throttled:
    everything sent comes back unprocessed (a real call, its answer rewritten by a
    botocore ``after-call`` hook)."""

    def __init__(self, client: Any, operation: str, times: int) -> None:
        self.calls = 0
        self.times = times
        self.sent: dict[str, Any] = {}
        self.unprocessed = "UnprocessedKeys" if operation == "BatchGetItem" else "UnprocessedItems"
        client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", self._before)
        client.meta.events.register(f"after-call.dynamodb.{operation}", self._after)

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self.sent = params["RequestItems"]

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        if self.calls <= self.times:
            parsed["Responses"] = {}
            parsed[self.unprocessed] = self.sent


def _table(dynamodb: Any, name: str, count: int) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(count):
        dynamodb.put_item(TableName=name, Item={"id": {"S": f"{name}{i}"}})


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_get_module, "BACKOFF_BASE_SECONDS", 0.001)
    monkeypatch.setattr(batch_get_module, "BACKOFF_CAP_SECONDS", 0.004)


def test_keys_left_unprocessed_are_read_again_after_a_backoff(
    moto_endpoint: str, quick_backoff: None
):
    dynamodb = client("dynamodb", moto_endpoint)
    _table(dynamodb, "a", 3)
    # GIVEN DynamoDB leaves every key unprocessed on the first two calls
    throttle = Throttle(dynamodb, "BatchGetItem", times=2)
    # WHEN three keys are read
    found = batch_get(dynamodb, {"a": [{"id": {"S": f"a{i}"}} for i in range(3)]})
    # THEN the third call reads them all
    assert throttle.calls == 3
    assert sorted(item["id"]["S"] for item in found["a"]) == ["a0", "a1", "a2"]


def test_keys_unprocessed_call_after_call_fail_as_a_retryable_error(
    moto_endpoint: str, quick_backoff: None
):
    dynamodb = client("dynamodb", moto_endpoint)
    _table(dynamodb, "a", 1)
    # GIVEN DynamoDB never processes the keys
    throttle = Throttle(dynamodb, "BatchGetItem", times=1000)
    # WHEN they are read, THEN the reader gives up after a bounded number of calls with an
    # error that names the table and that the stream handler retries
    with pytest.raises(RetryableError, match="UnprocessedKeys of table\\(s\\) a after 8 calls"):
        batch_get(dynamodb, {"a": [{"id": {"S": "a0"}}]})
    assert throttle.calls == BATCH_ATTEMPTS
    assert is_transient(RetryableError())


def test_registry_index_writes_left_unprocessed_are_sent_again(
    moto_endpoint: str, quick_backoff: None
):
    settings = create_stack(moto_endpoint)
    dynamodb = client("dynamodb", moto_endpoint)
    registry = Registry(dynamodb, settings.registry_table)
    # GIVEN DynamoDB leaves the first batch write's items unprocessed
    throttle = Throttle(dynamodb, "BatchWriteItem", times=1)
    job = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "load")))
    # WHEN the job is listed under two tasks
    registry.add_index(job, {"taskref#1", "taskref#2"})
    # THEN the second call wrote both entries
    assert throttle.calls == 2
    assert registry.dependents(["taskref#1"]) == {job}
    assert registry.dependents(["taskref#2"]) == {job}


def test_backoff_is_full_jitter_growing_to_a_cap():
    # the delay before call n+1 is uniform in [0, min(cap, base * 2**n)]
    assert batch_get_module.backoff_delay(1, lambda: 0.0) == 0.0
    assert batch_get_module.backoff_delay(1, lambda: 1.0) == BACKOFF_BASE_SECONDS * 2
    assert batch_get_module.backoff_delay(3, lambda: 0.5) == BACKOFF_BASE_SECONDS * 4
    assert batch_get_module.backoff_delay(30, lambda: 1.0) == BACKOFF_CAP_SECONDS
