"""Send ground-truth labels to S3 in the layout model-quality monitoring reads (contract §2.1).

One call writes one object, however many labels it carries::

    s3://<bucket>/<prefix>/yyyy/mm/dd/HH/<uuid>.jsonl      (HH = upload hour, UTC)

Python::

    from model_monitor_analyzer.ground_truth_sender import put_ground_truth
    put_ground_truth([("order-17", 1), ("order-18", 0)], s3_uri="s3://bucket/ground-truth/my-endpoint")

Command line (CSV with a header naming ``inference_id`` and ``label``, or JSON Lines objects with
those members)::

    model-monitor-analyzer put-ground-truth --s3-uri s3://bucket/ground-truth/my-endpoint --file labels.csv

The inference id is the ``InferenceId`` passed to ``InvokeEndpoint`` (or, without one, the
capture's ``eventId``). boto3 is imported only here, on use: install the ``[aws]`` extra.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.ground_truth import Label, ground_truth_record
from model_monitor_analyzer.io.jsonlines import iter_json_lines

_ID_COLUMNS = ("inference_id", "inferenceId", "event_id", "eventId")
_LABEL_COLUMNS = ("label", "ground_truth", "groundTruth")


def split_s3_uri(s3_uri: str) -> tuple[str, str]:
    """(bucket, prefix without surrounding slashes) of ``s3://bucket/prefix``."""
    if not s3_uri.startswith("s3://") or len(s3_uri) <= len("s3://"):
        raise AnalyzerInputError(f"{s3_uri!r} is not an S3 URI such as s3://bucket/ground-truth/my-endpoint")
    bucket, _, prefix = s3_uri[len("s3://") :].partition("/")
    if not bucket:
        raise AnalyzerInputError(f"{s3_uri!r} names no bucket")
    return bucket, prefix.strip("/")


def ground_truth_key(prefix: str, uploaded: datetime, name: str) -> str:
    """``<prefix>/yyyy/mm/dd/HH/<name>.jsonl`` with the UTC upload hour."""
    hour = uploaded.astimezone(UTC).strftime("%Y/%m/%d/%H")
    return f"{prefix}/{hour}/{name}.jsonl" if prefix else f"{hour}/{name}.jsonl"


def ground_truth_body(labels: Iterable[tuple[str, Label]]) -> tuple[bytes, int]:
    """JSON Lines text of the ground-truth records of ``labels`` and how many there are."""
    lines = [json.dumps(ground_truth_record(inference_id, label)) for inference_id, label in labels]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b"", len(lines)


def _s3_client(region: str | None = None) -> Any:
    try:
        import boto3
    except ImportError:  # pragma: no cover - depends on the installation
        raise AnalyzerInputError(
            "sending ground truth needs boto3: pip install 'model-monitor-analyzer[aws]'"
        ) from None
    return boto3.client("s3", region_name=region)


def put_ground_truth(
    labels: Iterable[tuple[str, Label]],
    *,
    s3_uri: str,
    client: Any = None,
    now: datetime | None = None,
    kms_key_id: str | None = None,
) -> str:
    """Write ``labels`` ((inference id, label) pairs) as one ground-truth object; return its S3 URI.

    Labels may be str/int/float/bool (CSV encoding) or dict/list (JSON encoding, e.g.
    ``{"label": 1}``). ``now`` (default: the current UTC time) picks the hour folder; ``client``
    defaults to a boto3 S3 client; with ``kms_key_id`` the object is encrypted with that key.
    Raises AnalyzerInputError when there is no label or one is invalid (nothing is written).
    """
    bucket, prefix = split_s3_uri(s3_uri)
    body, count = ground_truth_body(labels)
    if count == 0:
        raise AnalyzerInputError("no labels to send")
    key = ground_truth_key(prefix, now or datetime.now(UTC), str(uuid.uuid4()))
    extra: dict[str, str] = {}
    if kms_key_id:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    (client or _s3_client()).put_object(
        Bucket=bucket, Key=key, Body=body, ContentType="application/jsonl", **extra
    )
    return f"s3://{bucket}/{key}"


def _pick(columns: Iterable[str], accepted: tuple[str, ...]) -> str | None:
    names = list(columns)
    return next((name for name in accepted if name in names), None)


def read_labels_file(path: Path) -> list[tuple[str, Label]]:
    """(inference id, label) pairs from a CSV file with a header or a JSON Lines file.

    The id column may be named inference_id, inferenceId, event_id or eventId; the label column
    label, ground_truth or groundTruth. CSV labels stay text (they are sent as CSV); JSON labels
    keep their type, so an object label is sent with JSON encoding.
    """
    if not path.is_file():
        raise AnalyzerInputError("labels file not found", path=str(path))
    pairs: list[tuple[str, Label]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        for number, item in iter_json_lines(path, what="label"):
            id_key = _pick(item, _ID_COLUMNS) if isinstance(item, dict) else None
            label_key = _pick(item, _LABEL_COLUMNS) if isinstance(item, dict) else None
            if id_key is None or label_key is None:
                raise AnalyzerInputError(
                    'each line needs {"inference_id": ..., "label": ...}', path=str(path), line=number
                )
            pairs.append((str(item[id_key]), item[label_key]))
        return pairs
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        id_column = _pick(reader.fieldnames or [], _ID_COLUMNS)
        label_column = _pick(reader.fieldnames or [], _LABEL_COLUMNS)
        if id_column is None or label_column is None:
            raise AnalyzerInputError(
                "the CSV header must name an inference_id column and a label column", path=str(path), line=1
            )
        for number, row in enumerate(reader, start=2):
            inference_id, label = (row.get(id_column) or "").strip(), (row.get(label_column) or "").strip()
            if not inference_id or not label:
                raise AnalyzerInputError("empty inference id or label", path=str(path), line=number)
            pairs.append((inference_id, label))
    return pairs


def add_put_ground_truth_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``put-ground-truth``."""
    parser.add_argument(
        "--s3-uri", required=True, help="ground-truth prefix, e.g. s3://bucket/ground-truth/my-endpoint"
    )
    parser.add_argument(
        "--file", type=Path, required=True, help="CSV (inference_id,label header) or JSON Lines"
    )
    parser.add_argument(
        "--kms-key-id", help="KMS key to encrypt the object with (default: the bucket's encryption)"
    )
    parser.add_argument("--region", help="AWS region of the bucket (default: from the environment)")


def run_put_ground_truth(args: argparse.Namespace, *, client: Any = None) -> int:
    """Send the labels of ``args.file`` as one object; print where they went; return the exit code 0."""
    from botocore.exceptions import BotoCoreError, ClientError

    labels = read_labels_file(Path(args.file))
    try:
        uri = put_ground_truth(
            labels,
            s3_uri=args.s3_uri,
            client=client or _s3_client(getattr(args, "region", None)),
            kms_key_id=getattr(args, "kms_key_id", None),
        )
    except (BotoCoreError, ClientError) as exc:
        # Credentials, permissions, a missing bucket: the user's to fix, so one line, no traceback.
        print(f"error: could not send {len(labels)} labels to {args.s3_uri}: {exc}", file=sys.stderr)
        return 1
    print(f"Sent {len(labels)} labels to {uri}")
    return 0
