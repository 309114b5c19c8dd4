"""`batch_get`: one set of consistent reads across tables, beyond the 100-key call limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from lambda_compiler.batch_get import batch_get
from tests.integration.aws_fixtures import client

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
