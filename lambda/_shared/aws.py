"""AWS clients, and failed calls sorted into "retry later" and "retrying will not help"."""

from __future__ import annotations

import functools
import re

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .logs import log

# Codes AWS services answer when the call may succeed later: throttling, time-outs, failures on their side.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalException",
        "ServiceUnavailable",
    }
)
S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<key>.*)$")


class TransientAwsError(RuntimeError):
    """AWS throttled the call or failed on its side even after the client's retries; retry later."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code  # the service's error code, e.g. "ThrottlingException"


class AwsRequestError(RuntimeError):
    """AWS refused a call for a reason retrying will not fix (access denied, missing bucket, ...)."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code  # the service's error code, e.g. "AccessDenied"


@functools.cache
def client(service: str):
    """One client per service and process, with the SDK's standard retries (8 attempts)."""
    return boto3.client(
        service,
        config=Config(retries={"mode": "standard", "max_attempts": 8}, user_agent_extra="cdk-model-monitor"),
    )


def error_code(error: Exception) -> tuple[str, str]:
    """(code, message) of a failed call; an SDK error without a response is named by its class."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return details.get("Code", "Unknown"), str(details.get("Message", ""))
    return type(error).__name__, str(error)


def is_transient(error: Exception) -> bool:
    """Throttling, a 5xx answer, or no answer at all (connection, time-out)."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error_code(error)[0] in THROTTLING_CODES or status >= 500
    return isinstance(error, BotoCoreError)


def aws_error(error: Exception, what: str) -> RuntimeError:
    """Log a failed call and return the error to raise: TransientAwsError or AwsRequestError."""
    code, message = error_code(error)
    log("ERROR", f"{what} failed: {code}: {message}", outcome="failed", error_code=code)
    kind = TransientAwsError if is_transient(error) else AwsRequestError
    return kind(f"{what} failed: {code}: {message}", code)


def is_not_found(error: Exception) -> bool:
    """The named resource does not exist (SageMaker says so with a ValidationException)."""
    code, message = error_code(error)
    message = message.lower()
    return code in ("ResourceNotFound", "ResourceNotFoundException", "NoSuchKey", "404") or (
        code in ("ValidationException", "ValidationError")
        and ("could not find" in message or "does not exist" in message or "not found" in message)
    )


def is_name_taken(error: Exception) -> bool:
    """A resource with this name exists already (SageMaker: ResourceInUse or a ValidationException)."""
    code, message = error_code(error)
    message = message.lower()
    return code in ("ResourceInUse", "ResourceInUseException") or (
        code in ("ValidationException", "ValidationError")
        and ("already exists" in message or "must be unique" in message)
    )


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key without surrounding slashes) of ``s3://bucket/key``; ValueError for anything else."""
    match = S3_URI.match(uri) if isinstance(uri, str) else None
    if not match:
        raise ValueError(f"{uri!r} is not an S3 URI")
    return match.group("bucket"), match.group("key").strip("/")


def object_exists(bucket: str, key: str) -> bool:
    """Whether the object ``key`` exists, asked by listing the key itself (ListObjectsV2 with the key as prefix).

    Not by GetObject or HeadObject: S3 answers those for a missing key with 404 only to a caller allowed to list
    the whole bucket, and with 403 AccessDenied to one whose s3:ListBucket is limited by an s3:prefix condition,
    as every role of this project is; a listing under the granted prefix is answered either way. The key sorts
    first among the keys it prefixes, so one listed key tells. Errors are raised as the SDK's."""
    listed = client("s3").list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
    return bool(listed) and listed[0].get("Key") == key


def read_object_if_present(uri: str) -> bytes | None:
    """The bytes of the object ``uri``, or None when there is none (see ``object_exists``: a missing object is
    never taken for a refused read, nor a refused read for a missing object). Refused and failed calls raise
    ``aws_error``'s errors."""
    bucket, key = split_s3_uri(uri)
    try:
        if not object_exists(bucket, key):
            return None
        return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error)[0] in ("NoSuchKey", "404"):  # deleted between the listing and the read
            return None
        raise aws_error(error, f"reading {uri}") from error
    except BotoCoreError as error:
        raise aws_error(error, f"reading {uri}") from error
