"""boto3 clients through the Amazon provider's hook, so Airflow connections apply.

The connection (default ``aws_default``) gives credentials, region and, for tests
or VPC endpoints, an ``endpoint_url`` in its extra.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def client(service: str, conn_id: str) -> Any:
    """A cached boto3 client for `service` built from the Airflow connection `conn_id`."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    return AwsBaseHook(aws_conn_id=conn_id, client_type=service).get_conn()
