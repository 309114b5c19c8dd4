"""CloudFormation templates evaluated for one set of parameter values (`local/cfn.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lambda_compiler.local.cfn import Evaluation, TemplateError, load_template

TEMPLATE = """
Parameters:
  Env: {Type: String, Default: dev}
  Size: {Type: Number, Default: 30}
  Flag: {Type: String, Default: false}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Equals [!Ref Flag, "false"]]
  Either: !Or [!Condition IsProd, !Equals [!Ref Size, "30"]]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-${Env}-work"
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dead.Arn
        maxReceiveCount: !Ref Size
  Dead:
    Type: AWS::SQS::Queue
  ProdOnly:
    Type: AWS::SNS::Topic
    Condition: IsProd
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !If [IsProd, !Ref AWS::NoValue, !Join ["-", [logs, !Ref Env]]]
      Tags:
        - {Key: a, Value: !Sub ["${Prefix}/${Queue.Arn}", {Prefix: !Ref Env}]}
        - !If [IsDev, !Ref AWS::NoValue, {Key: b, Value: c}]
"""


def _placeholder(logical_id: str, attribute: str | None) -> str:
    return f"<{logical_id}>" if attribute is None else f"<{logical_id}.{attribute}>"


def _evaluate(tmp_path: Path, parameters: dict[str, str] | None = None, text: str = TEMPLATE):
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return Evaluation(
        load_template(path),
        parameters,
        pseudo={"AWS::StackName": "stack"},
        resource_value=_placeholder,
        source=str(path),
    )


def _properties(evaluation: Evaluation, logical_id: str) -> Any:
    return evaluation.resolve(evaluation.template["Resources"][logical_id]["Properties"])


def test_refs_and_subs_take_defaults_pseudo_parameters_and_resource_values(tmp_path) -> None:
    queue = _properties(_evaluate(tmp_path), "Queue")
    assert queue == {
        "QueueName": "stack-dev-work",
        "RedrivePolicy": {"deadLetterTargetArn": "<Dead.Arn>", "maxReceiveCount": "30"},
    }


def test_given_parameters_override_defaults_and_decide_conditions(tmp_path) -> None:
    dev, prod = _evaluate(tmp_path), _evaluate(tmp_path, {"Env": "prod"})
    assert [dev.condition(c) for c in ("IsProd", "IsDev", "Both", "Either")] == [
        False,
        True,
        True,
        True,
    ]
    assert prod.condition("IsProd") and not prod.condition("Both")
    assert "ProdOnly" not in dev.created() and "ProdOnly" in prod.created("AWS::SNS::Topic")
    assert set(dev.created("AWS::SQS::Queue")) == {"Queue", "Dead"}


def test_no_value_leaves_out_the_property_or_the_list_item(tmp_path) -> None:
    dev = _properties(_evaluate(tmp_path), "Bucket")
    assert dev == {"BucketName": "logs-dev", "Tags": [{"Key": "a", "Value": "dev/<Queue.Arn>"}]}
    prod = _properties(_evaluate(tmp_path, {"Env": "prod"}), "Bucket")
    assert "BucketName" not in prod
    assert prod["Tags"][1] == {"Key": "b", "Value": "c"}


def test_booleans_and_numbers_are_passed_as_cloudformation_text(tmp_path) -> None:
    evaluation = _evaluate(tmp_path)
    assert (evaluation.values["Flag"], evaluation.values["Size"]) == ("false", "30")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Nope"}, r"Where: !Ref Nope has no local value"),
        ({"Fn::GetAtt": ["Nope", "Arn"]}, r"Where: !GetAtt Nope.Arn has no local value"),
        ({"Fn::ImportValue": "shared"}, r"Where: Fn::ImportValue cannot be evaluated here"),
        ({"Fn::If": ["Unknown", 1, 2]}, r"Where uses unknown condition 'Unknown'"),
    ],
)
def test_what_cannot_be_evaluated_says_where_and_why(tmp_path, value, message) -> None:
    with pytest.raises(TemplateError, match=message):
        _evaluate(tmp_path).resolve(value, "Where")


def test_unknown_parameters_are_refused(tmp_path) -> None:
    with pytest.raises(TemplateError, match="not template parameters: Nope"):
        _evaluate(tmp_path, {"Nope": "x"})


def test_reading_a_template_leaves_pyyamls_safe_loader_alone(tmp_path) -> None:
    _evaluate(tmp_path)
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("value: !Ref Something")
