"""Create the template's tables, queues and versioned bucket on an endpoint (a moto server)."""

from __future__ import annotations

from typing import Any

from lambda_compiler.local.resources import StackResources


def provision(
    resources: StackResources, dynamodb: Any, s3: Any, bucket: str, sqs: Any | None = None
) -> None:
    """Create every table of `resources` (waiting until active), the bucket `bucket` with
    its versioning and lifecycle rules and, given an SQS client, every queue.

    Tables, queues or a bucket that already exist are left as they are, so a restart
    against a running server is harmless.
    """
    existing = set(dynamodb.list_tables()["TableNames"])
    for table in resources.tables.values():
        if table.name not in existing:
            dynamodb.create_table(**table.create_table_kwargs())
    for table in resources.tables.values():
        dynamodb.get_waiter("table_exists").wait(
            TableName=table.name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    if resources.bucket.versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if resources.bucket.lifecycle_rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": list(resources.bucket.lifecycle_rules)}
        )
    if sqs is not None:
        # A dead-letter queue must exist before the queue whose redrive policy names it.
        queues = sorted(resources.queues.values(), key=lambda q: q.dead_letter_target is not None)
        for queue in queues:
            sqs.create_queue(QueueName=queue.name, Attributes=dict(queue.attributes))
