"""Reading rows: strongly consistent reads of exactly the rows a build needs.

`RowSource` wraps an injected DynamoDB client. `get_rows` batches consistent
`BatchGetItem` calls (`row_keys` and `parse_rows` let a caller share them with other
tables); `job_keys` finds every job with a given `job_id` (across job
types) through the job table's `job_id` GSI, or a scan when no index is configured.
A GSI is eventually consistent, so its answer only nominates keys: the rows
themselves are always confirmed with consistent reads. `scan_all` reads whole
tables (paginated, consistent) for the deploy-time rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from lambda_compiler.batch_get import batch_get
from lambda_compiler.dynamodb_json import row_of
from lambda_compiler.plan import TableKind, ref_of, table_kind
from lambda_compiler.rows import Row, RowRef
from lambda_compiler.snapshot import Snapshot, TableNames


class RowSource:
    """Consistent reads of task, job and scheduler rows through one DynamoDB client."""

    def __init__(self, client: Any, tables: TableNames, job_id_index: str | None) -> None:
        self._client = client
        self.tables = tables
        self._job_id_index = job_id_index
        self._key_types: dict[str, dict[str, str]] = {}

    def kind(self, ref: RowRef) -> TableKind:
        """Which source table a row lives in."""
        return table_kind(self.tables, ref.table)

    @property
    def client(self) -> Any:
        """The DynamoDB client (shared with the registry for combined reads)."""
        return self._client

    def get_rows(self, refs: Iterable[RowRef]) -> dict[RowRef, Row | None]:
        """The current rows (None for a missing row), read with `ConsistentRead`."""
        wanted = set(refs)
        return self.parse_rows(wanted, batch_get(self._client, self.row_keys(wanted)))

    def row_keys(self, refs: Iterable[RowRef]) -> dict[str, list[dict[str, Any]]]:
        """The `BatchGetItem` keys of `refs` by table, for `batch_get`."""
        by_table: dict[str, list[dict[str, Any]]] = {}
        for ref in sorted(set(refs)):
            by_table.setdefault(ref.table, []).append(self._key(ref))
        return by_table

    def parse_rows(
        self, refs: Iterable[RowRef], items: dict[str, list[dict[str, Any]]]
    ) -> dict[RowRef, Row | None]:
        """`refs` as found in a `batch_get` answer (None for a missing row)."""
        found: dict[RowRef, Row | None] = dict.fromkeys(sorted(set(refs)))
        for table in {ref.table for ref in found}:
            kind = table_kind(self.tables, table)
            for item in items.get(table, []):
                row = row_of(item)
                found[ref_of(kind, self.tables, row)] = row
        return found

    def job_keys(self, job_id: str) -> frozenset[RowRef]:
        """The keys of every job row whose `job_id` is `job_id`, in any job type.

        From the GSI when configured (eventually consistent: confirm with `get_rows`),
        otherwise from a filtered scan of the job table.
        """
        table = self.tables.job
        value = self._typed(table, "job_id", job_id)
        if self._job_id_index:
            pages = self._client.get_paginator("query").paginate(
                TableName=table,
                IndexName=self._job_id_index,
                KeyConditionExpression="job_id = :id",
                ExpressionAttributeValues={":id": value},
            )
        else:
            pages = self._client.get_paginator("scan").paginate(
                TableName=table,
                FilterExpression="job_id = :id",
                ProjectionExpression="job_type, job_id",
                ExpressionAttributeValues={":id": value},
                ConsistentRead=True,
            )
        return frozenset(
            ref_of("job", self.tables, row_of(item)) for page in pages for item in page["Items"]
        )

    def scan_all(self) -> Snapshot:
        """Every row of the three tables (paginated, consistent): the rebuild's input."""
        return Snapshot(
            tasks=list(self._scan(self.tables.task)),
            jobs=list(self._scan(self.tables.job)),
            schedulers=list(self._scan(self.tables.scheduler)),
            tables=self.tables,
        )

    def _scan(self, table: str) -> Iterator[Row]:
        pages = self._client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        for page in pages:
            for item in page["Items"]:
                yield row_of(item)

    def _key(self, ref: RowRef) -> dict[str, Any]:
        return {name: self._typed(ref.table, name, value) for name, value in ref.key}

    def _typed(self, table: str, name: str, value: str) -> dict[str, str]:
        """A key value typed as the table declares it (`S` or `N`), read once per table."""
        if table not in self._key_types:
            description = self._client.describe_table(TableName=table)["Table"]
            self._key_types[table] = {
                a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]
            }
        return {self._key_types[table].get(name, "S"): value}
