"""Secrets in rejected rows never leave the row: not in the registry, the log, the alert
or a DAG file, and `dynadag status` shows only a redacted reason."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lambda_compiler.cli import app
from lambda_compiler.handler import lambda_handler, sync_for
from tests.integration.aws_fixtures import Stack, alert_queue, deliver, received
from tests.rowkit import job, task

pytestmark = pytest.mark.moto

PASSWORD = "hunter2-Zq81-never-print"
ROWS_WITH_SECRETS = {
    # a password key inside task_params (valid otherwise)
    "1": {"conn_id": "redshift_default", "sql": "SELECT 1;", "password": PASSWORD},
    # a URI with credentials inside the SQL text
    "2": {"conn_id": "redshift_default", "sql": f"COPY t FROM 's3://u:{PASSWORD}@bucket/x';"},
    # a bad value (not a string) that quotes the secret when rejected
    "3": {"conn_id": "redshift_default", "sql": {"token": PASSWORD}},
}


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    sync_for.cache_clear()
    return Stack(moto_endpoint, monkeypatch)


def test_a_secret_in_a_rejected_row_reaches_no_output(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = alert_queue(stack, monkeypatch)
    for task_id, params in ROWS_WITH_SECRETS.items():
        stack.put("task", task(task_id, task_params=json.dumps(params)))
        stack.put("job", job(task_id, task_id, name=f"leaky_{task_id}"))
    capsys.readouterr()

    assert deliver(lambda_handler, stack.records()) == []

    # every job is rejected with a reason, and no file holds the secret
    for task_id in ROWS_WITH_SECRETS:
        record = stack.registry.get_dag(f"job-leaky_{task_id}")
        assert record is not None and record.outcome == "invalid", task_id
        assert record.problems, task_id
    assert stack.files() == {}
    # the registry's items, the handler's log and the alerts never hold it
    registry = stack.dynamodb.scan(TableName=stack.settings.registry_table)["Items"]
    assert PASSWORD not in json.dumps(registry)
    assert PASSWORD not in capsys.readouterr().out
    assert PASSWORD not in caplog.text
    alerts = received(stack, queue)
    assert len(alerts) == len(ROWS_WITH_SECRETS)
    assert PASSWORD not in json.dumps(alerts)
    # and neither does `dynadag status`, which lists each rejected job
    monkeypatch.setenv("DYNADAG_BUCKET", stack.settings.bucket)
    status = CliRunner().invoke(app, ["status"])
    assert status.exit_code == 1
    assert PASSWORD not in status.output
    assert all(f"job-leaky_{task_id}" in status.output for task_id in ROWS_WITH_SECRETS)
