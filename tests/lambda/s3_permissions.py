"""S3 as a role with a given identity policy sees it: moto keeps the objects (and enforces no IAM), this decides
what the caller may do and answers as S3 answers the rest.

What is emulated of S3's authorization (S3 User Guide, "How Amazon S3 authorizes a request for an object
operation"; GetObject API reference, "Permissions"): a request is allowed when an Allow statement matches its
action, resource and conditions (StringEquals / StringLike) and no Deny does; a statement whose condition names a
key the request does not carry does not match. GetObject or HeadObject of a key that does not exist (and
CopyObject from one) is answered 404 only to a caller allowed s3:ListBucket on the bucket for that request, which
carries no s3:prefix, so a ListBucket limited by an s3:prefix condition does not count: the answer is 403.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

import boto3
from botocore.awsrequest import AWSResponse

from .conftest import REGION

_DENIED = {"HeadObject": (403, "403", "Forbidden")}  # a HEAD answer has no body: botocore names it by status


def enforce_policy(s3_client, statements: Iterable[dict]) -> list[str]:
    """Answer the requests of ``s3_client`` as S3 answers a caller whose identity policy is ``statements``
    (CloudFormation references already resolved to text). Returns the list the refused requests are added to,
    as ``"<operation> <resource>"``."""
    statements = list(statements)
    refused: list[str] = []

    def remember(params, context, **_):
        context["api_params"] = dict(params)

    def authorize(model, context, **_):
        refusal = _refusal(model.name, context["api_params"], statements)
        if refusal is None:
            return None
        refused.append(f"{model.name} {refusal}")
        status, code, message = _DENIED.get(model.name, (403, "AccessDenied", "Access Denied"))
        return (AWSResponse(url="", status_code=status, headers={}, raw=None),
                {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}})

    s3_client.meta.events.register("before-parameter-build.s3", remember)
    s3_client.meta.events.register("before-call.s3", authorize)
    return refused


def _refusal(operation: str, params: dict, statements: list[dict]) -> str | None:
    """The resource a request is refused on, or None when S3 would carry it out (moto answers it then)."""
    bucket = params["Bucket"]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if operation in ("ListObjectsV2", "ListObjects"):
        context = {"s3:prefix": params["Prefix"]} if "Prefix" in params else {}
        return None if allowed(statements, "s3:ListBucket", bucket_arn, context) else f"{bucket_arn} {context}"
    if operation in ("GetObject", "HeadObject"):
        return _read_refusal(statements, bucket, params["Key"])
    if operation == "PutObject":
        target = f"{bucket_arn}/{params['Key']}"
        return None if allowed(statements, "s3:PutObject", target, {}) else target
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, str):
            source_bucket, source_key = unquote(source.lstrip("/").split("?")[0]).split("/", 1)
        else:
            source_bucket, source_key = source["Bucket"], source["Key"]
        target = f"{bucket_arn}/{params['Key']}"
        if not allowed(statements, "s3:PutObject", target, {}):
            return target
        return _read_refusal(statements, source_bucket, source_key)
    raise AssertionError(f"S3 {operation} is not emulated: add it to tests/lambda/s3_permissions.py")


def _read_refusal(statements: list[dict], bucket: str, key: str) -> str | None:
    target = f"arn:aws:s3:::{bucket}/{key}"
    if not allowed(statements, "s3:GetObject", target, {}):
        return target
    if not _exists(bucket, key) and not allowed(statements, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {}):
        return f"{target} (missing, and the bucket may not be listed without a prefix)"
    return None


def _exists(bucket: str, key: str) -> bool:
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def allowed(statements: list[dict], action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether ``statements`` allow ``action`` on ``resource`` for a request carrying the condition keys
    ``context`` (an explicit Deny wins)."""
    matching = [s for s in statements if _applies(s, action, resource, context)]
    return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)


def _applies(statement: dict, action: str, resource: str, context: dict[str, str]) -> bool:
    if {"NotAction", "NotResource", "Principal"} & statement.keys():
        raise AssertionError(f"only identity policies with Action and Resource are emulated: {statement}")
    if not any(_like(action.lower(), pattern.lower()) for pattern in _listed(statement["Action"])):
        return False
    if not any(_like(resource, pattern) for pattern in _listed(statement["Resource"])):
        return False
    for operator, tests in statement.get("Condition", {}).items():
        if operator not in ("StringEquals", "StringLike"):
            raise AssertionError(f"condition operator {operator} is not emulated")
        for key, values in tests.items():
            if key not in context:
                return False
            if operator == "StringEquals" and context[key] not in _listed(values):
                return False
            if operator == "StringLike" and not any(_like(context[key], v) for v in _listed(values)):
                return False
    return True


def _like(text: str, pattern: str) -> bool:
    """IAM's wildcards: ``*`` any characters (``/`` included), ``?`` one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]
