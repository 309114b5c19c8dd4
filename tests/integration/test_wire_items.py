"""A DynamoDB client that takes read answers' items straight from the body
(`wire_items.read_items_from_the_wire`) answers exactly what botocore's own parser does:
every attribute type, binary values nested in maps and lists, strings that look like
typed JSON, pages, unprocessed keys and errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_compiler.wire_items import lift_items, read_items_from_the_wire
from tests.integration.aws_fixtures import client

pytestmark = pytest.mark.moto
TABLE = "wire"

ITEMS: list[dict[str, Any]] = [
    {
        "pk": {"S": "p"},
        "sk": {"S": "every-type"},
        "text": {"S": 'a "B": {"S": "x"} inside a string, and unicode: é ✓'},
        "number": {"N": "-12.5e3"},
        "blob": {"B": b"\x00\xffbinary"},
        "strings": {"SS": ["b", "a"]},
        "numbers": {"NS": ["1", "2.5"]},
        "blobs": {"BS": [b"\x01", b"\x02\x03"]},
        "null": {"NULL": True},
        "flag": {"BOOL": False},
        "map": {
            "M": {
                "B": {"S": "an attribute named B holds a string"},
                "BS": {"L": [{"B": b"in a list in a map"}]},
                "deep": {"M": {"blob": {"B": b"\x10"}, "n": {"N": "3"}}},
            }
        },
        "list": {"L": [{"B": b"\x20"}, {"S": "s"}, {"L": []}, {"M": {}}]},
    },
    {"pk": {"S": "p"}, "sk": {"S": "plain"}, "B": {"S": "no binary here"}},
    *({"pk": {"S": "q"}, "sk": {"S": f"{n:03}"}, "n": {"N": str(n)}} for n in range(30)),
]


@pytest.fixture
def clients(moto_endpoint: str) -> tuple[Any, Any]:
    """A client with botocore's parser, and one reading items from the wire."""
    plain, wire = client("dynamodb", moto_endpoint), client("dynamodb", moto_endpoint)
    read_items_from_the_wire(wire)
    plain.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in ITEMS:
        plain.put_item(TableName=TABLE, Item=item)
    return plain, wire


def answer(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def test_batch_get_answers_the_same_items_with_binary_values_as_bytes(
    clients: tuple[Any, Any],
) -> None:
    plain, wire = clients
    keys = [{"pk": item["pk"], "sk": item["sk"]} for item in ITEMS[:5]]
    request = {TABLE: {"Keys": keys, "ConsistentRead": True}}

    expected = answer(plain.batch_get_item(RequestItems=request))
    got = answer(wire.batch_get_item(RequestItems=request))

    assert got == expected
    assert got["UnprocessedKeys"] == {}
    every_type = next(i for i in got["Responses"][TABLE] if i["sk"] == {"S": "every-type"})
    assert every_type == ITEMS[0]  # bytes, as written


def test_query_and_scan_pages_are_the_same(clients: tuple[Any, Any]) -> None:
    plain, wire = clients
    for call in ("query", "scan"):
        params: dict[str, Any] = {"TableName": TABLE, "Limit": 7}
        if call == "query":
            params |= {
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": "q"}},
            }
        pages = 0
        while True:
            expected = answer(getattr(plain, call)(**params))
            got = answer(getattr(wire, call)(**params))
            assert got == expected
            pages += 1
            if "LastEvaluatedKey" not in got:
                break
            params["ExclusiveStartKey"] = got["LastEvaluatedKey"]
        assert pages > 2


def test_a_read_error_is_still_botocores_error(clients: tuple[Any, Any]) -> None:
    _, wire = clients

    with pytest.raises(ClientError) as raised:
        wire.query(
            TableName="no-such-table",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "q"}},
        )

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", b"[1, 2]", b'{"Items": '])
def test_a_body_that_is_not_dynamodbs_json_is_left_to_botocore(body: bytes) -> None:
    class Operation:
        name = "Query"

    response = {"status_code": 200, "body": body, "headers": {}}
    customized: dict[str, Any] = {}

    lift_items(Operation(), response, customized)

    assert response["body"] == body and customized == {}
