"""The local stack's bucket gets what the template declares (moto server)."""

from __future__ import annotations

import boto3
import pytest

from lambda_compiler.local.provision import provision
from lambda_compiler.local.resources import read_resources


@pytest.mark.moto
def test_the_local_bucket_gets_the_templates_lifecycle_rule(moto_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint)

    provision(read_resources(), dynamodb, s3, "local-dags")

    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket="local-dags")["Rules"]
    assert rule["ID"] == "dynadag-old-dag-versions"
    assert rule["Filter"] == {"Prefix": "dags/"}
    # moto keeps NoncurrentDays but drops NewerNoncurrentVersions; the reader keeps both
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert rule["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    (read,) = read_resources().bucket.lifecycle_rules
    assert read["NoncurrentVersionExpiration"] == {
        "NewerNoncurrentVersions": 50,
        "NoncurrentDays": 90,
    }
