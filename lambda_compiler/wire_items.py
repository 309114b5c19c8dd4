"""DynamoDB read answers' items taken straight from the response body.

botocore parses every response against its service model, and for DynamoDB items that
means walking all ten members of the `AttributeValue` shape for every attribute of
every item: measured, a third of the stream handler's CPU beyond compiling when a
change reads a few hundred items. The items of a `BatchGetItem`, `Query` or `Scan`
answer are already DynamoDB's typed JSON, which is what botocore would return for
them except for binary values (base64 on the wire, `bytes` once parsed). So
`read_items_from_the_wire(client)` registers a `before-parse` handler (botocore's
event system) that lifts the items out of the body with `json.loads`, decodes the
binary values as botocore does, and leaves the rest of the body (`UnprocessedKeys`,
`LastEvaluatedKey`, `Count`, errors) to botocore's parser. The answers a caller sees
are unchanged.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

ITEMS_OF = {"BatchGetItem": "Responses", "Query": "Items", "Scan": "Items"}
"""The read operations handled, and the field of their answer that holds the items."""

_BINARY = re.compile(rb'"BS?"\s*:')


def read_items_from_the_wire(client: Any) -> None:
    """Make `client` (a botocore DynamoDB client) take read answers' items from the body."""
    for operation in ITEMS_OF:
        client.meta.events.register(f"before-parse.dynamodb.{operation}", lift_items)


def lift_items(
    operation_model: Any,
    response_dict: dict[str, Any],
    customized_response_dict: dict[str, Any],
    **_: Any,
) -> None:
    """The `before-parse` handler: move the answer's items from the body to the parsed
    answer (`customized_response_dict`)."""
    field = ITEMS_OF.get(operation_model.name)
    body = response_dict.get("body")
    if field is None or response_dict.get("status_code") != 200 or not body:
        return
    try:
        answer = json.loads(body)
    except ValueError:  # not DynamoDB's JSON (e.g. a proxy's page): botocore's parser says so
        return
    items = answer.pop(field, None) if isinstance(answer, dict) else None
    if items is None:
        return
    if _BINARY.search(body):  # rare in these tables: only then walk every value
        items = _decoded(items)
    customized_response_dict[field] = items
    response_dict["body"] = json.dumps(answer).encode()


def _decoded(value: Any) -> Any:
    """`value` (typed JSON, or containers of it) with binary values decoded to `bytes`."""
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "B" and isinstance(inner, str):
            return {"B": base64.b64decode(inner)}
        if tag == "BS" and isinstance(inner, list):
            return {"BS": [base64.b64decode(blob) for blob in inner]}
    return {key: _decoded(item) for key, item in value.items()}
