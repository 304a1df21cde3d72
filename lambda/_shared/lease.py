"""A lease on one S3 object: at most one holder at a time, without reserved concurrency or a database.

The lease is the object itself, written only with S3's conditional writes: the first holder creates it
(``If-None-Match: *``) and every later holder replaces the version it read (``If-Match: <ETag>``), so of two
invocations that read the same version, one write succeeds and the other is refused (412, or 409 while the
first write is in flight). Nothing is ever deleted: releasing writes ``"released": true`` over the holder's
own version, which is what makes the object free for the next holder and keeps the record a holder leaves
(``record``, e.g. the last retraining it started), readable by the next one at once (S3 is strongly
consistent, unlike some listings). A holder that died keeps the lease until ``expires_at`` (its lease time,
longer than the function may run); then the next caller takes it over, again by ``If-Match``.

The caller needs s3:GetObject and s3:PutObject on the object (and its bucket key's kms:Decrypt and
kms:GenerateDataKey), nothing else.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from . import times
from .aws import client, error_code, split_s3_uri

# Another writer won the race: 412 when its version is in, 409 while its write is still in flight.
_LOST_RACE = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
# The object vanished between the refused create and the read (or the role may not tell missing from refused).
_GONE = frozenset({"NoSuchKey", "404", "AccessDenied", "403"})
# Seconds between two looks at a held lease: short first (a holder keeps it for a second or two), then 2 s.
POLL_SECONDS = (0.25, 0.5, 1.0, 2.0)


class LeaseBusy(RuntimeError):
    """Another holder kept the lease for longer than the caller could wait."""


@dataclass
class Lease:
    """A held lease. ``previous`` is the record the last holder left (None for the first holder ever)."""

    bucket: str
    key: str
    owner: str
    etag: str
    expires_at: datetime
    previous: dict[str, Any] | None = field(default=None)


def acquire(uri: str, *, owner: str, lease_seconds: float, wait_seconds: float,
            now: Callable[[], datetime]) -> Lease:
    """Hold the lease at ``uri`` (``s3://bucket/key``) for ``lease_seconds``, waiting up to ``wait_seconds``
    (wall-clock) while someone else holds it; ``LeaseBusy`` after that. ``now`` is the clock the lease times
    are written and compared in. AWS errors other than a lost race are raised as the SDK's."""
    bucket, key = split_s3_uri(uri)
    s3 = client("s3")
    deadline = time.monotonic() + max(0.0, wait_seconds)
    polls, exists = 0, False
    while True:
        moment = now()
        expires_at = moment + timedelta(seconds=lease_seconds)
        body = _body(owner=owner, acquired_at=moment, expires_at=expires_at, record=None)
        if not exists:
            try:
                response = s3.put_object(Bucket=bucket, Key=key, Body=_json(body), IfNoneMatch="*",
                                         ContentType="application/json")
                return Lease(bucket=bucket, key=key, owner=owner, etag=response["ETag"], expires_at=expires_at)
            except ClientError as error:
                if error_code(error)[0] not in _LOST_RACE:
                    raise
        current = _read(s3, bucket, key)
        exists = current is not None
        if current is not None:
            etag, document = current
            if document.get("released") or _expired(document, moment):
                # carried over, so that a holder that dies keeps it for the one after
                body["record"] = document.get("record")
                try:
                    response = s3.put_object(Bucket=bucket, Key=key, Body=_json(body), IfMatch=etag,
                                             ContentType="application/json")
                    return Lease(bucket=bucket, key=key, owner=owner, etag=response["ETag"],
                                 expires_at=expires_at, previous=document.get("record"))
                except ClientError as error:
                    if error_code(error)[0] not in _LOST_RACE:
                        raise
                    continue  # someone else took it first: look again at once
            holder = f"{document.get('owner')!r} until {document.get('expires_at')}"
        else:
            holder = "another caller (the object could not be read: gone, or s3:GetObject refused)"
        pause = POLL_SECONDS[min(polls, len(POLL_SECONDS) - 1)]
        if time.monotonic() + pause > deadline:
            raise LeaseBusy(f"s3://{bucket}/{key} is held by {holder}")
        time.sleep(pause)
        polls += 1


def release(lease: Lease, *, record: dict[str, Any] | None, now: Callable[[], datetime]) -> bool:
    """Free ``lease``, leaving ``record`` for the next holder (None: the previous holder's record is kept).
    False when the lease was no longer ours (it expired and was taken over): nothing is written then."""
    s3 = client("s3")
    moment = now()
    body = {"owner": lease.owner, "released": True, "released_at": times.iso(moment), "nonce": uuid.uuid4().hex,
            "record": record if record is not None else lease.previous}
    try:
        s3.put_object(Bucket=lease.bucket, Key=lease.key, Body=_json(body), IfMatch=lease.etag,
                      ContentType="application/json")
    except ClientError as error:
        if error_code(error)[0] in _LOST_RACE or error_code(error)[0] in ("NoSuchKey", "404"):
            return False
        raise
    return True


def new_owner(request_id: str | None) -> str:
    """A name for a holder: the invocation's request id (unique per attempt), else a random one."""
    return request_id or f"local-{uuid.uuid4()}"


def _body(*, owner: str, acquired_at: datetime, expires_at: datetime,
          record: dict[str, Any] | None) -> dict[str, Any]:
    # the nonce keeps every version's ETag distinct, so If-Match can never confuse two holders' versions
    return {"owner": owner, "released": False, "acquired_at": times.iso(acquired_at),
            "expires_at": times.iso(expires_at), "nonce": uuid.uuid4().hex, "record": record}


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), default=str).encode()


def _read(s3: Any, bucket: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """(ETag, document) of the lease object; None when it is gone. A document that is not JSON reads as expired."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error)[0] in _GONE:
            return None
        raise
    try:
        document = json.loads(response["Body"].read())
    except (ValueError, UnicodeDecodeError):
        document = {}
    return response["ETag"], document if isinstance(document, dict) else {}


def _expired(document: dict[str, Any], moment: datetime) -> bool:
    """Past its ``expires_at``; a document without a readable one never blocks anybody."""
    expires_at = times.parse_time(document.get("expires_at"))
    return expires_at is None or expires_at <= moment
