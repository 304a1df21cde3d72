"""Fixtures for the Lambda handlers: each handler folder loaded as its own module, AWS mocked by moto."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto.core.models import botocore_stubber

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "lambda"
EVENTS = Path(__file__).resolve().parent / "events"
REGION = "us-east-1"


def load_handler(folder: str) -> ModuleType:
    """Import ``lambda/<folder>/index.py`` afresh under a unique name (every folder has an ``index``).

    Its ``_shared`` package is found where each asset has it, beside ``index.py`` (here: ``lambda/``), and is
    imported afresh too, so no client cached by one test (with its mock) serves another.
    """
    if str(LAMBDA_ROOT) not in sys.path:
        sys.path.insert(0, str(LAMBDA_ROOT))
    for name in [n for n in sys.modules if n == "_shared" or n.startswith("_shared.")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(f"lambda_{folder}_index", LAMBDA_ROOT / folder / "index.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def log_lines(captured: str) -> list[dict]:
    """Every stdout line of a handler must be one JSON object."""
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


class _RawBody(io.BytesIO):
    """What botocore reads an HTTP body from."""

    def stream(self, **_):
        yield self.read()


def fail_requests(
    client, operation: str, failures: list[int], *, status: int, body: bytes, headers=None
) -> None:
    """Answer the next ``failures[0]`` ``operation`` requests of ``client`` with an HTTP error instead of moto.

    botocore's own retry logic sees these answers, as it would a real throttling or 5xx response. moto is
    asked only for the requests that are not failed, so a failed request has no side effect in the mock.
    """
    client.meta.events.unregister("before-send", botocore_stubber)

    def send(request, event_name: str, **kwargs):
        if event_name.endswith(f".{operation}") and failures[0] > 0:
            failures[0] -= 1
            return AWSResponse(request.url, status, headers or {}, _RawBody(body))
        return botocore_stubber(event_name=event_name, request=request, **kwargs)

    client.meta.events.register("before-send", send)


def refuse_put_metric_data(client, namespace: str, code: str = "AccessDenied") -> list[str]:
    """CloudWatch refuses PutMetricData to ``namespace`` from ``client`` (as IAM does outside the namespaces a
    policy's condition names); returns the list each refused request adds its namespace to."""
    refused: list[str] = []

    def refuse(params, **_):
        if params["Namespace"] == namespace:
            refused.append(namespace)
            raise ClientError({"Error": {"Code": code, "Message": f"not authorized to perform cloudwatch:PutMetricData "
                                         f"in {namespace}"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                              "PutMetricData")

    client.meta.events.register("before-parameter-build.cloudwatch.PutMetricData", refuse)
    return refused


@pytest.fixture
def events_inbox(aws):
    """A rule on the default bus for the publisher's source, delivering to a queue; returns a reader of the
    events."""
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="status-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="status", EventPattern=json.dumps({"source": ["cdk-model-monitor"]}))
    events.put_targets(Rule="status", Targets=[{"Id": "inbox", "Arn": arn}])

    def read() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return read
