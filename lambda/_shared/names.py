"""Names AWS imposes rules on: processing jobs (63 characters) and CloudWatch metrics (255, printable ASCII)."""

from __future__ import annotations

import hashlib
import re

MAX_JOB_NAME_LENGTH = 63
# A job-name prefix of at most this length is never shortened (window id of 12, digest of 10, attempts below a
# million), so an IAM policy may name its jobs by it: processing-job/<prefix>-*.
MAX_JOB_NAME_PREFIX_LENGTH = 24
JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_METRIC_NAME_LENGTH = 255  # CloudWatch's MetricName limit (PutMetricData API reference)
MAX_DIMENSION_VALUE_LENGTH = 1024  # CloudWatch's Dimension Value limit
METRIC_NAME_DIGEST_LENGTH = 10


def slug(text: str, limit: int) -> str:
    """Lower-case letters and digits joined by single hyphens, at most ``limit`` characters.

    Lower case because SageMaker lower-cases job names in ARNs, which IAM policies match on.
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-")


def job_name_prefix(owner: str) -> str:
    """The job-name prefix of one owner of processing jobs (a monitor, by its schedule name, unique in the account
    and region): ``<slug of owner, at most 14>--<8 hex of sha256(owner)>``, at most MAX_JOB_NAME_PREFIX_LENGTH
    characters, so its jobs' names keep it whole and ``processing-job/<prefix>-*`` matches that owner's jobs only.
    The double hyphen makes that strict: a slug has single hyphens only, so another owner's job name can start with
    ``<prefix>-`` only if its own prefix is this one (the same slug and digest)."""
    digest = hashlib.sha256(owner.encode()).hexdigest()[:8]
    readable = slug(owner, MAX_JOB_NAME_PREFIX_LENGTH - len(digest) - 2) or "mm"
    return f"{readable}--{digest}"


def processing_job_name(prefix: str, window_id: str, *parts: str, attempt: int = 1) -> str:
    """``<prefix slug>-<window id>-<10 hex of sha256(parts, window id)>``, with ``-attempt-<n>`` added for a
    window's attempt ``n`` > 1 (a re-run after a failed or completed one): at most 63 characters matching
    SageMaker's job-name pattern, the same for every try of one attempt. The prefix is lower-cased with any run of
    other characters than letters, digits and hyphens made one hyphen (a ``job_name_prefix`` stays as it is), and
    shortened to fit only when longer than MAX_JOB_NAME_PREFIX_LENGTH."""
    if attempt < 1:
        raise ValueError(f"attempt={attempt} must be 1 or more")
    digest = hashlib.sha256("\n".join((*parts, window_id)).encode()).hexdigest()[:10]
    suffix = f"-{window_id}-{digest}" + (f"-attempt-{attempt}" if attempt > 1 else "")
    readable = re.sub(r"[^a-z0-9-]+", "-", prefix.lower()).strip("-") or "mm"
    return f"{readable[: MAX_JOB_NAME_LENGTH - len(suffix)].rstrip('-')}{suffix}"


def cloudwatch_metric_name(name: str) -> str:
    """``name`` if CloudWatch takes it as it is: at most 255 characters, each printable ASCII (32 to 126, as
    CloudWatch documents for metric names in metric streams, and for dimensions and namespaces: no control
    characters). Else a readable prefix and a digest: ``name`` with every other character (a line break, a
    tab, a non-ASCII letter) made ``_``, cut to its first 244 characters, then ``-`` and 10 hex digits of
    SHA-256 over the whole original name (UTF-8): at most 255 characters, the same for the same name, and
    different for two names that differ only past character 244 or only in the characters made ``_``.

    The metrics publisher (lambda/_shared/names.py) and the constructs' alarms use a copy of this
    function that the tests hold equal to it, so an alarm watches the name the analyzer wrote.
    """
    return _printable_name(name, MAX_METRIC_NAME_LENGTH, blank_ok=True)


def cloudwatch_dimension_value(value: str) -> str:
    """``value`` if CloudWatch takes it as a dimension value as it is: at most 1,024 characters, each printable
    ASCII, and not blank (CloudWatch's Dimension reference: ASCII without control characters, at least one
    non-whitespace character). Else, as for metric names, a readable prefix (every other character made ``_``,
    cut to its first 1,013 characters), ``-`` and 10 hex digits of SHA-256 over the whole original value: a
    facet value such as ``São Paulo`` is published, and alarmed on, as ``S_o Paulo-<digest>``.

    The metrics publisher (lambda/_shared/names.py) and the constructs' bias metrics use a copy of this
    function that the tests hold equal to it.
    """
    return _printable_name(value, MAX_DIMENSION_VALUE_LENGTH, blank_ok=False)


def _printable_name(text: str, limit: int, *, blank_ok: bool) -> str:
    """``text`` if it is at most ``limit`` printable-ASCII characters (and not blank unless ``blank_ok``), else its
    readable prefix (every other character made ``_``, cut to leave room for the digest), ``-`` and 10 hex digits
    of SHA-256 over the whole original text: the same for the same text, different for two texts that differ
    only past the cut or only in the characters made ``_``."""
    readable = re.sub(r"[^\x20-\x7e]", "_", text)
    if readable == text and len(text) <= limit and (blank_ok or text.strip()):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:METRIC_NAME_DIGEST_LENGTH]
    return f"{readable[: limit - METRIC_NAME_DIGEST_LENGTH - 1]}-{digest}"
