"""template.yaml, checked offline: lint (before and after the SAM transform) and the properties
a deployment relies on, asserted on the translated CloudFormation."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from lambda_compiler.config import DEFAULT_CONFIG
from lambda_compiler.settings import Settings
from lambda_compiler.targets import TargetError, target_for
from tests.infra.cfn import (
    CODE_URI,
    PSEUDO,
    TEMPLATE,
    Resolved,
    source_template,
    statements,
    translate,
)

EXISTING = {
    "UseExistingTables": "true",
    "TaskTableStreamLabel": "2024-01-01T00:00:00.001",
    "JobTableStreamLabel": "2024-01-01T00:00:00.002",
    "SchedulerTableStreamLabel": "2024-01-01T00:00:00.003",
    "ExistingBucketName": "airflow-analytics-prod",
    "DagS3Path": "pipelines/dags",
}
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/"
# The only actions AWS offers no resource-level permission for, that the functions need.
STAR_RESOURCE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.fixture(scope="module")
def default() -> Resolved:
    return Resolved()


@pytest.fixture(scope="module")
def existing() -> Resolved:
    return Resolved(EXISTING)


def _lint(text: str) -> list[str]:
    return [str(m) for m in lint(text, config=ManualArgs(regions=["us-east-1"]))]


def test_cfn_lint_passes_on_the_template() -> None:
    assert _lint(TEMPLATE.read_text(encoding="utf-8")) == []


def test_cfn_lint_passes_on_the_sam_translated_template() -> None:
    # linting the SAM template misses errors inside AWS::Serverless::* resources
    assert _lint(json.dumps(translate(), indent=1)) == []


# ------------------------------------------------------------------------- tables


ORIGINAL_KEYS = {
    "TaskTable": ["task_id"],
    "JobTable": ["job_type", "job_id"],
    "SchedulerTable": ["schedule_id"],
    "RegistryTable": ["pk", "sk"],
    "RunHistoryTable": ["dag_id", "run_key"],
}


def test_tables_keep_the_original_keys_and_are_durable_and_encrypted(default: Resolved) -> None:
    tables = default.of_type("AWS::DynamoDB::Table")
    assert set(tables) == set(ORIGINAL_KEYS)
    for logical_id, keys in ORIGINAL_KEYS.items():
        props = tables[logical_id]["Properties"]
        assert [k["AttributeName"] for k in props["KeySchema"]] == keys, logical_id
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
    assert tables["TaskTable"]["Properties"]["TableName"] == "mwaa_task"


def test_source_tables_stream_new_and_old_images_and_survive_stack_deletion(
    default: Resolved,
) -> None:
    for logical_id in ("TaskTable", "JobTable", "SchedulerTable"):
        table = default.resources[logical_id]
        spec = table["Properties"]["StreamSpecification"]
        assert spec == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_bare_job_ids_resolve_through_the_job_id_index(default: Resolved) -> None:
    (index,) = default.resources["JobTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == Settings(bucket="b").job_id_index
    assert index["KeySchema"] == [{"AttributeName": "job_id", "KeyType": "HASH"}]


def test_existing_tables_and_bucket_are_used_not_created(existing: Resolved) -> None:
    created = existing.resources
    assert not {"TaskTable", "JobTable", "SchedulerTable", "DagsBucket"} & set(created)
    assert {"RegistryTable", "RunHistoryTable"} <= set(created)
    sources = {
        r["Properties"]["EventSourceArn"]
        for r in existing.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    assert sources == {
        "<WorkQueue.Arn>",
        f"{TABLE_ARN}mwaa_task/stream/2024-01-01T00:00:00.001",
        f"{TABLE_ARN}mwaa_job/stream/2024-01-01T00:00:00.002",
        f"{TABLE_ARN}mwaa_scheduler/stream/2024-01-01T00:00:00.003",
    }
    env = created["CompilerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["DYNADAG_BUCKET"] == "airflow-analytics-prod"
    assert env["DYNADAG_DAGS_PREFIX"] == "pipelines/dags/"
    assert env["DYNADAG_TASK_TABLE"] == "mwaa_task"


def test_existing_tables_require_their_stream_arns() -> None:
    rule = translate()["Rules"]["ExistingTablesNeedStreams"]
    asserted = json.dumps(rule["Assertions"])
    for name in ("TaskTableStreamLabel", "JobTableStreamLabel", "SchedulerTableStreamLabel"):
        assert name in asserted


# ------------------------------------------------------------------------- bucket


def test_dags_bucket_is_versioned_private_encrypted_and_owner_enforced(default: Resolved) -> None:
    bucket = default.resources["DagsBucket"]["Properties"]
    assert bucket["BucketName"].startswith("airflow-")  # MWAA's naming rule
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_old_versions_of_dag_files_expire_by_count_and_age_under_the_dags_prefix() -> None:
    configured = Resolved({"DagS3Path": "pipelines/dags", "KeepDagVersions": "20"})
    bucket = configured.resources["DagsBucket"]["Properties"]

    (rule,) = bucket["LifecycleConfiguration"]["Rules"]

    assert rule["Status"] == "Enabled"
    assert rule["Prefix"] == "pipelines/dags/"
    assert rule["NoncurrentVersionExpiration"] == {
        "NewerNoncurrentVersions": "20",
        "NoncurrentDays": "90",
    }
    assert rule["ExpiredObjectDeleteMarker"] is True
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    # current files never expire, only old versions
    assert not {"ExpirationInDays", "ExpirationDate", "Transitions"} & set(rule)
    declared = configured.evaluation.template["Parameters"]
    assert declared["KeepDagVersions"]["MaxValue"] == 100  # S3's limit for NewerNoncurrentVersions


def test_dags_bucket_refuses_requests_without_tls(default: Resolved) -> None:
    policy = default.resources["DagsBucketPolicy"]["Properties"]
    assert policy["Bucket"] == "<DagsBucket>"
    (deny,) = statements(policy["PolicyDocument"])
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {"<DagsBucket.Arn>", "<DagsBucket.Arn>/*"}


# ------------------------------------------------------------------------- functions and streams


def test_functions_run_python_312_on_the_chosen_architecture(default: Resolved) -> None:
    arm = Resolved({"Architecture": "arm64"})
    for logical_id in ("CompilerFunction", "DeployHookFunction"):
        props = default.resources[logical_id]["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["x86_64"]
        assert arm.resources[logical_id]["Properties"]["Architectures"] == ["arm64"]
    handler = default.resources["CompilerFunction"]["Properties"]["Handler"]
    assert handler == "lambda_compiler.handler.lambda_handler"
    hook = default.resources["DeployHookFunction"]["Properties"]["Handler"]
    assert hook == "lambda_compiler.deploy_hook.handler"


def test_functions_get_the_settings_the_code_reads(default: Resolved) -> None:
    env = default.resources["CompilerFunction"]["Properties"]["Environment"]["Variables"]
    settings = Settings.from_env(env)
    assert settings.bucket == "<DagsBucket>"
    assert settings.dags_prefix == "dags/"
    assert settings.tables.task == "<TaskTable>"
    assert settings.job_id_index == "job_id-index"
    assert settings.registry_table == "<RegistryTable>"
    assert settings.run_history_table == "<RunHistoryTable>"
    assert settings.alert_topic_arn == "<AlertTopic>"
    assert env["POWERTOOLS_SERVICE_NAME"] == env["POWERTOOLS_METRICS_NAMESPACE"] == "dynadag"


def test_the_airflow_version_reaches_the_functions_as_the_compile_target() -> None:
    stack = Resolved({"AirflowVersion": "2.11"})
    env = stack.resources["CompilerFunction"]["Properties"]["Environment"]["Variables"]
    assert Settings.from_env({**env, "DYNADAG_BUCKET": "b"}).compiler.airflow.version == "2.11"


@pytest.mark.parametrize(
    "version", ["2.9", "2.10", "2.11", "2.12", "3.0", "3.1", "3.12", "4.0", "3"]
)
def test_the_airflow_version_parameter_accepts_exactly_the_compilable_versions(
    version: str,
) -> None:
    # the guided deploy refuses what the compiler would refuse at run time, and nothing else
    pattern = source_template()["Parameters"]["AirflowVersion"]["AllowedPattern"]
    try:
        target_for(version)
        compilable = True
    except TargetError:
        compilable = False
    assert bool(re.fullmatch(pattern, version)) is compilable


POLICY = {
    "PythonModulePrefixes": "etl,ops.jobs",
    "AllowBash": "true",
    "AllowSqlSecretsJinja": "true",
    "AllowedConnIds": "etl_*,redshift_default",
    "AllowedSlackConnIds": "slack_*",
    "AllowedIamRoleArns": "arn:aws:iam::111122223333:role/etl-*",
    "AllowedS3CodePrefixes": "s3://etl-code/",
    "AllowedGlueJobs": "etl-*",
    "AllowedRedshiftSecretArns": "*",
}


def test_security_policy_parameters_reach_both_functions() -> None:
    stack = Resolved(POLICY)
    for function in ("CompilerFunction", "DeployHookFunction"):
        env = stack.resources[function]["Properties"]["Environment"]["Variables"]
        config = Settings.from_env(env).compiler
        assert config.python_module_prefixes == ("etl", "ops.jobs")
        assert config.allow_bash and config.allow_secrets_jinja
        assert config.conn_ids.patterns == ("etl_*", "redshift_default")
        assert config.slack_conn_ids.patterns == ("slack_*",)
        assert config.iam_role_arns.patterns == ("arn:aws:iam::111122223333:role/etl-*",)
        assert config.s3_code_prefixes.patterns == ("s3://etl-code/",)
        assert config.glue_jobs.patterns == ("etl-*",)
        assert config.redshift_secret_arns.allows_any


def test_security_policy_defaults_to_the_compilers_defaults(default: Resolved) -> None:
    env = default.resources["CompilerFunction"]["Properties"]["Environment"]["Variables"]
    assert Settings.from_env(env).compiler == DEFAULT_CONFIG


def test_function_logs_go_to_log_groups_with_retention(default: Resolved) -> None:
    groups = default.of_type("AWS::Logs::LogGroup")
    for logical_id, group in (
        ("CompilerFunction", "CompilerLogGroup"),
        ("DeployHookFunction", "DeployHookLogGroup"),
    ):
        props = default.resources[logical_id]["Properties"]
        assert props["LoggingConfig"]["LogGroup"] == f"<{group}>"
        assert groups[group]["Properties"]["RetentionInDays"] == "30"


def test_one_stream_source_per_table_with_partial_batches_bisect_and_dead_letters(
    default: Resolved,
) -> None:
    mappings = {
        name: mapping
        for name, mapping in default.of_type("AWS::Lambda::EventSourceMapping").items()
        if mapping["Properties"]["EventSourceArn"] != "<WorkQueue.Arn>"
    }
    sources = sorted(m["Properties"]["EventSourceArn"] for m in mappings.values())
    assert sources == [
        "<JobTable.StreamArn>",
        "<SchedulerTable.StreamArn>",
        "<TaskTable.StreamArn>",
    ]
    for mapping in mappings.values():
        props = mapping["Properties"]
        assert props["FunctionName"] == "<CompilerFunctionAliaslive>"
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert 0 < props["MaximumRetryAttempts"] <= 10
        assert 60 <= props["MaximumRecordAgeInSeconds"] <= 3600
        assert props["DestinationConfig"] == {
            "OnFailure": {"Destination": "<StreamDeadLetterQueue.Arn>"}
        }


def test_dead_letters_and_alerts_are_encrypted(default: Resolved) -> None:
    queue = default.resources["StreamDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    topic = default.resources["AlertTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == "<AlertsKey.Arn>"
    key = default.resources["AlertsKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [
        s
        for s in statements(key["KeyPolicy"])
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch, "CloudWatch alarms must be able to publish to the encrypted topic"


def test_alert_email_subscription_only_when_an_address_is_given(default: Resolved) -> None:
    assert "AlertEmailSubscription" not in default.resources
    with_email = Resolved({"AlertEmail": "ops@example.com"})
    subscription = with_email.resources["AlertEmailSubscription"]["Properties"]
    assert subscription == {
        "TopicArn": "<AlertTopic>",
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }


def _alarm(default: Resolved, namespace: str, metric: str) -> dict[str, Any]:
    found = [
        a["Properties"]
        for a in default.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == namespace and a["Properties"]["MetricName"] == metric
    ]
    assert len(found) == 1, f"one alarm on {namespace}/{metric}"
    return found[0]


@pytest.mark.parametrize("metric", ["Errors", "Throttles", "IteratorAge"])
def test_compiler_function_alarms(default: Resolved, metric: str) -> None:
    alarm = _alarm(default, "AWS/Lambda", metric)
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "<CompilerFunction>"}]
    assert alarm["AlarmActions"] == ["<AlertTopic>"]


@pytest.mark.parametrize("metric", ["DagsInvalid", "DagsFailed"])
def test_compile_failure_metrics_alarm(default: Resolved, metric: str) -> None:
    # the handler's Powertools Metrics: namespace dynadag, default dimension service=dynadag
    from lambda_compiler import handler

    assert metric in handler._METRICS
    alarm = _alarm(default, "dynadag", metric)
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "dynadag"}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["AlarmActions"] == ["<AlertTopic>"]


@pytest.mark.parametrize("queue", ["StreamDeadLetterQueue", "WorkDeadLetterQueue"])
def test_dead_letter_queue_depth_alarm(default: Resolved, queue: str) -> None:
    alarms = [
        alarm["Properties"]
        for alarm in default.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["Dimensions"]
        == [{"Name": "QueueName", "Value": f"<{queue}.QueueName>"}]
    ]
    assert len(alarms) == 1, f"one depth alarm on {queue}"
    assert alarms[0]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarms[0]["AlarmActions"] == ["<AlertTopic>"]


def test_fanout_workers_have_bounded_concurrency_retries_and_a_dead_letter_queue(
    default: Resolved,
) -> None:
    mapping = next(
        m["Properties"]
        for m in default.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == "<WorkQueue.Arn>"
    )
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": "20"}  # RebuildConcurrency
    worker = default.resources["FanoutWorkerFunction"]["Properties"]
    assert worker["Handler"] == "lambda_compiler.fanout_worker.handler"
    queue = default.resources["WorkQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert int(queue["VisibilityTimeout"]) >= 6 * int(worker["Timeout"])
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": "<WorkDeadLetterQueue.Arn>",
        "maxReceiveCount": 3,
    }
    assert default.resources["WorkDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert default.resources["DagRebuild"]["Properties"]["ServiceTimeout"] == 3600
    from lambda_compiler.local.cfn import load_template
    from lambda_compiler.local.resources import DEFAULT_TEMPLATE
    from lambda_compiler.settings import DEFAULTS

    environment = load_template(DEFAULT_TEMPLATE)["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["DYNADAG_MAX_RECEIVES"] == str(queue["RedrivePolicy"]["maxReceiveCount"])
    assert int(environment["DYNADAG_REBUILD_DEADLINE_SECONDS"]) < 3600
    assert DEFAULTS["DYNADAG_MAX_RECEIVES"] == "3"


def test_fanout_roles_reach_only_the_work_queue_and_their_own_stack(default: Resolved) -> None:
    worker = _role_statements(default, "FanoutWorkerRole")
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"):
        assert _grants(worker, action) == {"<WorkQueue.Arn>"}
    assert _grants(worker, "logs:PutLogEvents") == {"<FanoutWorkerLogGroup.Arn>"}
    hook = _role_statements(default, "DeployHookRole")
    assert _grants(hook, "sqs:SendMessage") == {"<WorkQueue.Arn>"}
    assert _grants(hook, "sqs:ReceiveMessage") == set()
    assert _grants(hook, "cloudformation:DescribeStacks") == {PSEUDO["AWS::StackId"]}


def _rebuild_properties(parameters: dict[str, str], code_uri: str = CODE_URI) -> dict[str, Any]:
    return Resolved(parameters, code_uri).resources["DagRebuild"]["Properties"]


def test_the_rebuild_runs_on_the_deploy_hook(default: Resolved) -> None:
    rebuild = default.resources["DagRebuild"]["Properties"]
    assert rebuild["ServiceToken"] == "<DeployHookFunction.Arn>"
    version = rebuild["CompilerVersion"].strip("<>")
    assert default.resources[version]["Type"] == "AWS::Lambda::Version"


@pytest.mark.parametrize(
    "change",
    [
        {"code_uri": "s3://artifacts-bucket/dynadag/fedcba9876543210"},  # new code or templates
        {"parameters": {"DagS3Path": "other/dags"}},
        {"parameters": {"ExistingBucketName": "airflow-other"}},
        {"parameters": EXISTING},
        {"parameters": {"RebuildToken": "2026-11-21"}},
        {"parameters": {"AirflowVersion": "3.1"}},
        {"parameters": {"AllowedConnIds": "etl_*"}},  # a new policy re-checks every row
    ],
)
def test_a_deploy_that_changes_code_or_settings_reruns_the_rebuild(change: dict[str, Any]) -> None:
    # CloudFormation sends the custom resource an Update when a resolved property changes
    before = _rebuild_properties({})
    after = _rebuild_properties(change.get("parameters", {}), change.get("code_uri", CODE_URI))
    assert after != before


# ------------------------------------------------------------------------- least privilege


def _role_statements(resolved: Resolved, role: str) -> list[dict[str, Any]]:
    """Every Allow statement a role gets: inline policies and the managed policies it attaches."""
    props = resolved.resources[role]["Properties"]
    found = [s for p in props.get("Policies", []) for s in statements(p["PolicyDocument"])]
    for arn in props.get("ManagedPolicyArns", []):
        assert arn.startswith("<") and arn.endswith(">"), f"{role} attaches {arn}"
        policy = resolved.resources[arn.strip("<>")]["Properties"]["PolicyDocument"]
        found += list(statements(policy))
    return found


def _grants(found: list[dict[str, Any]], action: str) -> set[str]:
    return {r for s in found if action in s["Action"] for r in s["Resource"]}


@pytest.mark.parametrize("role", ["CompilerRole", "DeployHookRole"])
def test_roles_have_no_wildcard_actions_and_star_only_where_aws_has_nothing_narrower(
    default: Resolved, role: str
) -> None:
    found = _role_statements(default, role)
    assert found
    for statement in found:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in statement["Action"]:
            assert "*" not in action, f"{role}: wildcard action {action}"
        if "*" in statement["Resource"]:
            assert set(statement["Action"]) <= STAR_RESOURCE_ACTIONS, statement


@pytest.mark.parametrize("resolved", ["default", "existing"])
def test_compiler_reads_only_the_three_tables_and_writes_only_the_registry(
    resolved: str, request: pytest.FixtureRequest
) -> None:
    stack: Resolved = request.getfixturevalue(resolved)
    found = _role_statements(stack, "CompilerRole")
    table = TABLE_ARN
    sources = {f"{table}mwaa_task", f"{table}mwaa_job", f"{table}mwaa_scheduler"}
    assert _grants(found, "dynamodb:GetItem") == sources | {"<RegistryTable.Arn>"}
    assert _grants(found, "dynamodb:Scan") == sources | {"<RegistryTable.Arn>"}
    assert _grants(found, "dynamodb:Query") == sources | {
        f"{table}mwaa_job/index/job_id-index",
        "<RegistryTable.Arn>",
    }
    for write in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
        assert _grants(found, f"dynamodb:{write}") == {"<RegistryTable.Arn>"}
    for stream_action in ("GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"):
        assert _grants(found, f"dynamodb:{stream_action}") == {
            f"{table}{name}/stream/*" for name in ("mwaa_task", "mwaa_job", "mwaa_scheduler")
        }
    dynamodb_actions = {a for s in found for a in s["Action"] if a.startswith("dynamodb:")}
    assert not {a for a in dynamodb_actions if "Table" in a} - {"dynamodb:DescribeTable"}


def test_without_a_job_id_index_no_index_is_created_or_granted() -> None:
    stack = Resolved({"JobIdIndexName": ""})
    assert "GlobalSecondaryIndexes" not in stack.resources["JobTable"]["Properties"]
    found = _role_statements(stack, "CompilerRole")
    assert not any("/index/" in r for s in found for r in s["Resource"])
    env = stack.resources["CompilerFunction"]["Properties"]["Environment"]["Variables"]
    assert Settings.from_env(env).job_id_index is None


@pytest.mark.parametrize(
    ("parameters", "bucket", "prefix"),
    [({}, "<DagsBucket>", "dags/"), (EXISTING, "airflow-analytics-prod", "pipelines/dags/")],
)
def test_s3_access_is_limited_to_the_dags_prefix(
    parameters: dict[str, str], bucket: str, prefix: str
) -> None:
    stack = Resolved(parameters)
    for role in ("CompilerRole", "DeployHookRole"):
        found = _role_statements(stack, role)
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert _grants(found, action) == {f"arn:aws:s3:::{bucket}/{prefix}*"}
        listing = [s for s in found if "s3:ListBucket" in s["Action"]]
        assert [s["Resource"] for s in listing] == [[f"arn:aws:s3:::{bucket}"]]
        assert listing[0]["Condition"] == {"StringLike": {"s3:prefix": f"{prefix}*"}}
        s3_actions = {a for s in found for a in s["Action"] if a.startswith("s3:")}
        assert s3_actions == {
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:ListBucket",
            "s3:ListBucketVersions",
        }


def test_publish_only_to_its_topic_and_dead_letters_only_to_its_queue(default: Resolved) -> None:
    found = _role_statements(default, "CompilerRole")
    assert _grants(found, "sns:Publish") == {"<AlertTopic>"}
    assert _grants(found, "sqs:SendMessage") == {"<StreamDeadLetterQueue.Arn>", "<WorkQueue.Arn>"}
    assert _grants(found, "logs:PutLogEvents") == {"<CompilerLogGroup.Arn>"}
    hook = _role_statements(default, "DeployHookRole")
    assert _grants(hook, "dynamodb:GetRecords") == set()


def test_mwaa_runtime_policy_reaches_only_run_history_and_the_alert_topic(
    default: Resolved,
) -> None:
    # what dags_runtime does from the MWAA workers (history.py, alerts.py)
    policy = default.resources["MwaaRuntimePolicy"]["Properties"]
    found = list(statements(policy["PolicyDocument"]))
    assert _grants(found, "dynamodb:PutItem") == {"<RunHistoryTable.Arn>"}
    assert _grants(found, "dynamodb:UpdateItem") == {"<RunHistoryTable.Arn>"}
    assert _grants(found, "sns:Publish") == {"<AlertTopic>"}
    assert _grants(found, "kms:GenerateDataKey") == {"<AlertsKey.Arn>"}
    resources = {r for s in found for r in s["Resource"]}
    assert resources == {"<RunHistoryTable.Arn>", "<AlertTopic>", "<AlertsKey.Arn>"}
    assert not any("*" in a for s in found for a in s["Action"])


# ------------------------------------------------------------------------- outputs


@pytest.mark.parametrize(
    ("version", "section", "listing"),
    [
        ("2.10", "scheduler", "dag_dir_list_interval"),
        ("2.11", "scheduler", "dag_dir_list_interval"),
        ("3.0", "dag_processor", "refresh_interval"),
        ("3.3", "dag_processor", "refresh_interval"),
    ],
)
def test_parsing_options_carry_the_names_the_environments_release_reads(
    version: str, section: str, listing: str
) -> None:
    # Airflow 2 has no [dag_processor] section: options named after it would be ignored
    stack = Resolved({**EXISTING, "AirflowVersion": version})
    options = json.loads(stack.output("MwaaAirflowConfigurationOptions"))
    assert options == {
        f"{section}.min_file_process_interval": "600",
        f"{section}.{listing}": "60",
        f"{section}.file_parsing_sort_mode": "modified_time",
        "dynadag.alert_topic_arn": "<AlertTopic>",
        "dynadag.run_history_table": "<RunHistoryTable>",
    }
    assert json.dumps(options) in stack.output("MwaaUpdateEnvironmentCommand")


def test_outputs_name_everything_an_mwaa_environment_needs(existing: Resolved) -> None:
    assert existing.output("DagsBucketName") == "airflow-analytics-prod"
    assert existing.output("MwaaSourceBucketArn") == "arn:aws:s3:::airflow-analytics-prod"
    assert existing.output("MwaaDagS3Path") == "pipelines/dags"
    assert existing.output("DagsS3Uri") == "s3://airflow-analytics-prod/pipelines/dags/"
    options = json.loads(existing.output("MwaaAirflowConfigurationOptions"))
    assert int(options["dag_processor.min_file_process_interval"]) >= 300  # default is 30
    assert options["dag_processor.file_parsing_sort_mode"] == "modified_time"
    # read by dags_runtime from the [dynadag] section
    assert options["dynadag.alert_topic_arn"] == "<AlertTopic>"
    assert options["dynadag.run_history_table"] == "<RunHistoryTable>"
    command = existing.output("MwaaUpdateEnvironmentCommand")
    assert "--dag-s3-path pipelines/dags" in command
    assert json.dumps(options) in command
    for name in (
        "TaskTableName",
        "JobTableName",
        "SchedulerTableName",
        "RegistryTableName",
        "RunHistoryTableName",
        "AlertTopicArn",
        "StreamDeadLetterQueueUrl",
        "MwaaRuntimePolicyArn",
        "CompilerLogGroupName",
    ):
        assert existing.output(name), name


def test_the_registry_is_pre_warmed_for_writes_only_when_asked(default: Resolved) -> None:
    # DynamoDB bills pre-warming once and never lowers it again: not done by default
    assert "WarmThroughput" not in default.resources["RegistryTable"]["Properties"]

    warm = Resolved({"RegistryWarmWriteUnits": "12000"}).resources["RegistryTable"]["Properties"]

    assert warm["WarmThroughput"] == {"WriteUnitsPerSecond": "12000"}
    assert warm["BillingMode"] == "PAY_PER_REQUEST"


def test_every_parameter_appears_in_exactly_one_console_group() -> None:
    template = source_template()
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]

    assert sorted(grouped) == sorted(template["Parameters"])
