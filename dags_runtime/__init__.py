"""Code the generated DAGs import at run time: alerts, run history, deadline callbacks.

Uploaded beside the DAG files and kept out of DAG parsing by ``.airflowignore``.
Importing any module here is cheap: boto3, Airflow hooks and connections are only
imported inside the functions that use them, so a DAG file's parse time does not
grow with this package.

Every module works on each Airflow release dynadag compiles for (2.10 to 3.x): an
Airflow class that moved between releases is imported where the running release
keeps it. An alert that cannot be sent logs an ERROR line starting with
``dynadag: alert not sent`` (count it with a CloudWatch metric filter) and
increments the StatsD counter ``dynadag.alert_failures``.

Settings come from the Airflow configuration section ``[dynadag]`` (on MWAA:
custom configuration options ``dynadag.alert_topic_arn`` and so on, which Airflow
also reads from ``AIRFLOW__DYNADAG__ALERT_TOPIC_ARN``):

| option | default | meaning |
| --- | --- | --- |
| ``alert_topic_arn`` | (none) | SNS topic for alerts, unless a job names its own |
| ``run_history_table`` | (none) | DynamoDB table for task tries, unless a job names its own |
| ``aws_conn_id`` | ``aws_default`` | Airflow connection used for SNS and DynamoDB |
| ``run_history_days`` | ``90`` | history items get ``expires_at`` for DynamoDB TTL; ``0``: never |
"""
