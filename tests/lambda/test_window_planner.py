"""lambda/window_planner: window math, capture listing and the SageMaker manifest of one monitoring window."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from .conftest import REGION, fail_requests, load_handler, log_lines

BUCKET = "monitoring-bucket"
CAPTURE = f"s3://{BUCKET}/datacapture/churn-ep/AllTraffic"
REPORTS = f"s3://{BUCKET}/reports/data-quality"
JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@pytest.fixture
def planner(aws, monkeypatch):
    for name in (
        "CAPTURE_S3_URI",
        "REPORT_S3_URI",
        "ENDPOINT_NAME",
        "SCHEDULE_NAME",
        "MANIFEST_S3_URI",
        "GROUND_TRUTH_S3_URI",
        "KMS_KEY_ID",
        "WINDOW_START_OFFSET",
        "WINDOW_END_OFFSET",
    ):
        monkeypatch.delenv(name, raising=False)
    return load_handler("window_planner")


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def _capture_key(moment: datetime, n: int = 0, root: str = "datacapture/churn-ep/AllTraffic") -> str:
    """SageMaker's capture layout: <root>/yyyy/mm/dd/HH/MM-SS-mmm-<uuid>.jsonl."""
    return f"{root}/{moment:%Y/%m/%d/%H}/{moment:%M-%S}-{n % 1000:03d}-0b7bfd33-c8a7-4adf-a09a-{n:012d}.jsonl"


def _put(s3, key: str, body: bytes = b'{"captureData": {}}\n') -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def _event(**overrides) -> dict:
    event = {
        "scheduled_time": "2026-11-25T13:00:00Z",
        "capture_s3_uri": CAPTURE,
        "window_start_offset": "-PT1H",
        "window_end_offset": "PT0H",
        "report_s3_uri": REPORTS,
        "endpoint_name": "churn-ep",
        "schedule_name": "churn-ep-data-quality",
    }
    event.update(overrides)
    return event


def _read_json(s3, uri: str):
    bucket, key = uri[len("s3://") :].split("/", 1)
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_hourly_window_lists_the_previous_hour_and_writes_a_manifest(planner, s3):
    inside = [_capture_key(_at("2026-11-25T12:00:03"), 1), _capture_key(_at("2026-11-25T12:59:59"), 2)]
    outside = [_capture_key(_at("2026-11-25T11:59:59"), 3), _capture_key(_at("2026-11-25T13:00:00"), 4)]
    for key in inside + outside:
        _put(s3, key)

    plan = planner.handler(_event(scheduled_time="2026-11-25T13:07:42.512Z"), None)

    assert plan["has_data"] is True
    assert (plan["start"], plan["end"], plan["metric_time"]) == (
        "2026-11-25T12:00:00Z",
        "2026-11-25T13:00:00Z",
        "2026-11-25T12:00:00Z",
    )
    assert plan["window_id"] == "2026112513"
    assert plan["object_count"] == 2
    assert plan["report_uri"] == f"{REPORTS}/churn-ep/churn-ep-data-quality/2026/11/25/13"
    assert plan["manifest_uri"] == (
        f"{REPORTS}/_manifests/churn-ep/churn-ep-data-quality/2026/11/25/13/capture.manifest.json"
    )
    assert plan["publication_receipt_uri"] == (
        f"{REPORTS}/_manifests/churn-ep/churn-ep-data-quality/2026/11/25/13/publication-receipt.json"
    )
    manifest = _read_json(s3, plan["manifest_uri"])
    assert manifest[0] == {"prefix": f"{CAPTURE}/"}
    assert [manifest[0]["prefix"] + k for k in manifest[1:]] == [f"s3://{BUCKET}/{k}" for k in inside]


def test_window_spanning_midnight_and_month_end_lists_both_days(planner, s3):
    keys = [
        _capture_key(_at("2026-11-30T22:10:00"), 1),
        _capture_key(_at("2026-11-30T23:10:00"), 2),
        _capture_key(_at("2026-12-01T00:10:00"), 3),
        _capture_key(_at("2026-12-01T01:10:00"), 4),
    ]
    for key in keys:
        _put(s3, key)

    plan = planner.handler(
        _event(scheduled_time="2026-12-01T01:00:00Z", window_start_offset="-PT2H", window_end_offset="PT0H"),
        None,
    )

    assert (plan["start"], plan["end"]) == ("2026-11-30T23:00:00Z", "2026-12-01T01:00:00Z")
    manifest = _read_json(s3, plan["manifest_uri"])
    assert manifest[1:] == [
        "2026/11/30/23/" + keys[1].rsplit("/", 1)[1],
        "2026/12/01/00/" + keys[2].rsplit("/", 1)[1],
    ]
    assert plan["report_uri"].endswith("/2026/12/01/01")


def test_window_across_new_year_with_day_offsets(planner):
    window = planner.plan_window(
        _at("2027-01-01T00:30:00"),
        planner.parse_duration("-P1DT1H", "s"),
        planner.parse_duration("-P1D", "e"),
    )

    assert (window["start"], window["end"]) == (_at("2026-12-30T23:00:00"), _at("2026-12-31T00:00:00"))
    assert planner.hour_prefixes(window["start"], window["end"]) == ["2026/12/30/23/"]
    assert window["window_id"] == "2027010100"


def test_late_window_offsets_analyse_an_earlier_hour(planner):
    window = planner.plan_window(
        _at("2026-11-25T13:59:59"), planner.parse_duration("-PT2H", "s"), planner.parse_duration("-PT1H", "e")
    )

    assert (window["start"], window["end"]) == (_at("2026-11-25T11:00:00"), _at("2026-11-25T12:00:00"))
    assert window["folder"] == "2026/11/25/13"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-PT1H", timedelta(hours=-1)),
        ("PT0H", timedelta(0)),
        ("+PT24H", timedelta(hours=24)),
        ("-P1DT2H30M", -timedelta(days=1, hours=2, minutes=30)),
        ("P2W", timedelta(weeks=2)),
        ("-pt15m", timedelta(minutes=-15)),
    ],
)
def test_iso_durations_are_parsed_with_their_sign(planner, text, expected):
    assert planner.parse_duration(text, "offset") == expected


@pytest.mark.parametrize("text", ["-1H", "P1M", "P1Y", "PT", "P", "-PT1.5H", "PT1H30"])
def test_durations_outside_the_supported_form_are_refused_with_the_fix(planner, text):
    with pytest.raises(planner.PlanningInputError, match=r"window_start_offset=.* use e\.g\. -PT1H"):
        planner.parse_duration(text, "window_start_offset")


def test_sub_hour_offsets_need_minute_granularity(planner, s3):
    with pytest.raises(planner.PlanningInputError, match="not a whole number of hours"):
        planner.handler(_event(window_start_offset="-PT30M"), None)


def test_minute_granularity_plans_a_sub_hourly_window(planner, s3):
    key = _capture_key(_at("2026-11-25T12:50:00"), 1)
    _put(s3, key)

    plan = planner.handler(
        _event(
            scheduled_time="2026-11-25T13:15:20Z",
            window_granularity="minute",
            window_start_offset="-PT30M",
            window_end_offset="-PT15M",
        ),
        None,
    )

    assert (plan["start"], plan["end"]) == ("2026-11-25T12:45:00Z", "2026-11-25T13:00:00Z")
    assert plan["window_id"] == "202611251315"
    assert plan["report_uri"].endswith("/2026/11/25/13/15")
    assert plan["object_count"] == 1


def test_empty_window_reports_no_data_and_writes_no_manifest(planner, s3, capsys):
    _put(s3, _capture_key(_at("2026-11-25T10:00:00"), 1))
    _put(s3, "datacapture/churn-ep/AllTraffic/2026/11/25/12/")  # a folder marker is not data
    _put(s3, _capture_key(_at("2026-11-25T12:05:00"), 2), body=b"")  # nor an empty object

    plan = planner.handler(_event(), None)

    assert (plan["has_data"], plan["no_data_reason"], plan["object_count"]) == (False, "no_capture", 0)
    assert plan["manifest_uri"] is None
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="reports/").get("KeyCount") == 0
    [line] = log_lines(capsys.readouterr().out)
    assert (line["level"], line["outcome"], line["window_id"]) == ("INFO", "no_data", "2026112513")
    assert line["job_name"] == plan["job_name"]


def test_more_than_a_thousand_objects_are_all_listed(planner, s3):
    hour = _at("2026-11-25T12:00:00")
    keys = sorted(_capture_key(hour + timedelta(seconds=i), i) for i in range(1205))
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]  # seeding through moto's backend is 20x faster than PUTs
    for key in keys:
        backend.put_object(BUCKET, key, b"{}\n")

    plan = planner.handler(_event(), None)

    assert plan["object_count"] == 1205
    manifest = _read_json(s3, plan["manifest_uri"])
    assert [f"datacapture/churn-ep/AllTraffic/{k}" for k in manifest[1:]] == keys


SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"


def test_throttled_listing_is_retried_with_backoff(planner, s3, monkeypatch):
    _put(s3, _capture_key(_at("2026-11-25T12:30:00"), 1))
    sleeps = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", sleeps.append)
    throttled = [2]
    fail_requests(planner.client("s3"), "ListObjectsV2", throttled, status=503, body=SLOW_DOWN)

    plan = planner.handler(_event(), None)

    assert plan["object_count"] == 1
    assert throttled == [0] and len(sleeps) == 2


def test_throttling_beyond_the_retries_raises_a_retryable_error(planner, s3, monkeypatch):
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    fail_requests(planner.client("s3"), "ListObjectsV2", [100], status=503, body=SLOW_DOWN)

    with pytest.raises(
        planner.TransientAwsError,
        match=r"ListObjectsV2 on s3://monitoring-bucket/datacapture/churn-ep/AllTraffic/2026/11/25/12/ failed: SlowDown",
    ):
        planner.handler(_event(), None)


def test_missing_bucket_raises_a_non_retryable_error_naming_it(planner, aws):
    with pytest.raises(planner.AwsRequestError, match=r"s3://no-such-bucket/.* failed: NoSuchBucket"):
        planner.handler(_event(capture_s3_uri="s3://no-such-bucket/datacapture/ep/AllTraffic"), None)


def test_job_name_is_deterministic_valid_and_distinct_per_window_and_schedule(planner, s3):
    first = planner.handler(_event(), None)["job_name"]
    again = planner.handler(_event(scheduled_time="2026-11-25T13:59:00Z"), None)["job_name"]
    next_hour = planner.handler(_event(scheduled_time="2026-11-25T14:00:00Z"), None)["job_name"]
    other_schedule = planner.handler(_event(schedule_name="churn-ep-data-quality-2"), None)["job_name"]

    assert first == again
    assert len({first, next_hour, other_schedule}) == 3
    assert first.startswith("model-monitor-2026112513-")
    assert JOB_NAME_PATTERN.match(first)


@pytest.mark.parametrize("prefix", ["Data_Quality Monitor!", "x" * 80, "---", "a-" * 40])
@pytest.mark.parametrize("attempt", [1, 2, 1000])
def test_job_name_stays_valid_for_any_prefix(planner, prefix, attempt):
    name = planner.processing_job_name(
        prefix, endpoint_name="ep", schedule_name="s", monitor_type="data-quality", window_id="202611251315",
        attempt=attempt,
    )

    assert len(name) <= 63
    assert JOB_NAME_PATTERN.match(name), name
    assert name == name.lower()
    assert name.endswith(f"-attempt-{attempt}") == (attempt > 1)


@pytest.mark.parametrize("schedule", ["churn-ep-data-quality", "Windows-DataQuality-97DB1EDD", "x" * 63, "a-b-c"])
@pytest.mark.parametrize("window_id", ["2026112513", "202611251315"])
@pytest.mark.parametrize("attempt", [1, 2, 999_999])
def test_a_monitors_job_name_prefix_is_kept_whole_in_every_job_name(planner, schedule, window_id, attempt):
    prefix = planner.names.job_name_prefix(schedule)
    name = planner.processing_job_name(prefix, endpoint_name="ep", schedule_name=schedule,
                                       monitor_type="data-quality", window_id=window_id, attempt=attempt)

    assert len(prefix) <= planner.names.MAX_JOB_NAME_PREFIX_LENGTH and JOB_NAME_PATTERN.match(name)
    assert len(name) <= 63 and name.startswith(f"{prefix}-")  # what the state machine's role is limited to


def test_no_monitors_job_name_prefix_reaches_into_anothers_jobs(planner):
    # a schedule named like another's prefix: its jobs must still not start with "<that prefix>-"
    first = planner.names.job_name_prefix("ab")
    lookalike = planner.names.job_name_prefix(f"{first.replace('--', '-')}-c")
    jobs = [planner.processing_job_name(lookalike, endpoint_name="ep", schedule_name="s", monitor_type="data-quality",
                                        window_id="2026112513", attempt=attempt) for attempt in (1, 2)]

    assert first != lookalike
    assert not any(job.startswith(f"{first}-") for job in jobs), (first, jobs)


def test_model_quality_window_also_plans_the_ground_truth_hours(planner, s3):
    _put(s3, _capture_key(_at("2026-11-24T13:20:00"), 1))
    gt_root = "ground-truth/churn-ep"
    uploaded = [
        _capture_key(_at("2026-11-24T13:40:00"), 2, gt_root),
        _capture_key(_at("2026-11-25T12:40:00"), 3, gt_root),
    ]
    too_late = _capture_key(_at("2026-11-25T13:01:00"), 4, gt_root)
    for key in [*uploaded, too_late]:
        _put(s3, key)

    plan = planner.handler(
        _event(
            monitor_type="model-quality",
            window_start_offset="-PT24H",
            window_end_offset="-PT23H",
            ground_truth_s3_uri=f"s3://{BUCKET}/{gt_root}",
        ),
        None,
    )

    assert plan["has_data"] is True
    assert (plan["start"], plan["end"]) == ("2026-11-24T13:00:00Z", "2026-11-24T14:00:00Z")
    assert (plan["ground_truth_start"], plan["ground_truth_end"]) == (
        "2026-11-24T13:00:00Z",
        "2026-11-25T13:00:00Z",
    )
    assert plan["ground_truth_object_count"] == 2
    manifest = _read_json(s3, plan["ground_truth_manifest_uri"])
    assert manifest[0] == {"prefix": f"s3://{BUCKET}/{gt_root}/"}
    assert [f"{gt_root}/{k}" for k in manifest[1:]] == uploaded


def test_ground_truth_lookback_limits_the_hours_listed(planner, s3):
    _put(s3, _capture_key(_at("2026-11-24T13:20:00"), 1))
    gt_root = "ground-truth/churn-ep"
    _put(s3, _capture_key(_at("2026-11-24T13:40:00"), 2, gt_root))
    recent = _capture_key(_at("2026-11-25T12:40:00"), 3, gt_root)
    _put(s3, recent)

    plan = planner.handler(
        _event(
            window_start_offset="-PT24H",
            window_end_offset="-PT23H",
            ground_truth_s3_uri=f"s3://{BUCKET}/{gt_root}",
            ground_truth_lookback="PT2H",
        ),
        None,
    )

    assert plan["ground_truth_start"] == "2026-11-25T11:00:00Z"
    assert _read_json(s3, plan["ground_truth_manifest_uri"])[1:] == [recent[len(gt_root) + 1 :]]


def test_capture_without_ground_truth_is_no_data(planner, s3):
    _put(s3, _capture_key(_at("2026-11-25T12:20:00"), 1))

    plan = planner.handler(_event(ground_truth_s3_uri=f"s3://{BUCKET}/ground-truth/churn-ep"), None)

    assert (plan["has_data"], plan["no_data_reason"]) == (False, "no_ground_truth")
    assert (plan["manifest_uri"], plan["ground_truth_manifest_uri"]) == (None, None)


def test_environment_supplies_missing_inputs_and_batch_reports_have_no_endpoint_level(
    planner, s3, monkeypatch
):
    monkeypatch.setenv("CAPTURE_S3_URI", f"s3://{BUCKET}/batch-capture/")
    monkeypatch.setenv("REPORT_S3_URI", REPORTS)
    monkeypatch.setenv("SCHEDULE_NAME", "nightly-batch")
    monkeypatch.setenv("MANIFEST_S3_URI", f"s3://{BUCKET}/manifests")
    _put(s3, "batch-capture/2026/11/25/12/input.manifest")

    plan = planner.handler({"scheduled_time": "2026-11-25T13:00:00Z"}, None)

    assert plan["report_uri"] == f"{REPORTS}/nightly-batch/2026/11/25/13"
    assert (
        plan["manifest_uri"] == f"s3://{BUCKET}/manifests/nightly-batch/2026/11/25/13/capture.manifest.json"
    )
    assert _read_json(s3, plan["manifest_uri"]) == [
        {"prefix": f"s3://{BUCKET}/batch-capture/"},
        "2026/11/25/12/input.manifest",
    ]


def test_manifest_is_written_with_the_kms_key_when_one_is_set(planner, s3, monkeypatch):
    monkeypatch.setenv("KMS_KEY_ID", "alias/monitoring")
    _put(s3, _capture_key(_at("2026-11-25T12:20:00"), 1))

    plan = planner.handler(_event(), None)

    bucket, key = plan["manifest_uri"][len("s3://") :].split("/", 1)
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"scheduled_time": None}, "scheduled_time is missing: pass it in the event or set SCHEDULED_TIME"),
        ({"scheduled_time": "yesterday"}, "scheduled_time='yesterday' is not an ISO-8601 time"),
        ({"capture_s3_uri": "bucket/capture"}, "capture_s3_uri='bucket/capture' is not an S3 URI"),
        ({"window_start_offset": "PT0H", "window_end_offset": "-PT1H"}, "the window would be empty"),
        ({"window_granularity": "day"}, "window_granularity='day' is not supported"),
        ({"schedule_interval": "-PT1H"}, "schedule_interval='-PT1H' must be positive"),
        ({"schedule_interval": "hourly"}, "schedule_interval='hourly' is not an ISO-8601 duration"),
        ({"execution_input": {"rerun": "true"}}, "rerun='true' is not true or false: pass \"rerun\": true"),
        ({"execution_input": "rerun"}, "execution_input='rerun' is not a JSON object"),
    ],
)
def test_inputs_a_user_must_fix_are_refused_with_the_fix(planner, aws, overrides, fragment):
    with pytest.raises(planner.PlanningInputError, match=re.escape(fragment)):
        planner.handler(_event(**overrides), None)


# -- late captures: files that reach a window's folders after it was listed -------------------------------------

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:churn-ep-data-quality:{}"


def _planned(planner, scheduled: str, **overrides) -> dict:
    """A window planned by a state machine execution (which claims the window, so its listing is recorded)."""
    return planner.handler(_event(scheduled_time=scheduled, execution_id=EXECUTION.format(scheduled[:13]),
                                  schedule_interval="PT1H", **overrides), None)


def test_a_capture_file_that_lands_after_its_window_was_listed_is_counted_by_the_next_window(planner, s3, capsys):
    _put(s3, _capture_key(_at("2026-11-25T12:10:00"), 1))
    first = _planned(planner, "2026-11-25T13:00:00Z")
    late = _capture_key(_at("2026-11-25T12:59:58"), 2)  # delivered after 13:00's window was listed
    _put(s3, late)
    _put(s3, _capture_key(_at("2026-11-25T13:30:00"), 3))
    capsys.readouterr()

    plan = _planned(planner, "2026-11-25T14:00:00Z")

    assert first["object_count"] == 1
    assert (plan["late_capture_files"], plan["late_window_id"], plan["late_window_start"]) == (
        1, "2026112513", "2026-11-25T12:00:00Z")
    assert plan["object_count"] == 1  # the 13:30 file is this window's own
    [warning] = [line for line in log_lines(capsys.readouterr().out) if line["outcome"] == "late_captures"]
    assert warning["level"] == "WARNING"
    assert warning["late_keys"] == [late.removeprefix("datacapture/churn-ep/AllTraffic/")]


def test_a_window_that_found_nothing_records_its_listing_so_a_file_landing_later_is_counted(planner, s3):
    empty = _planned(planner, "2026-11-25T13:00:00Z")
    _put(s3, _capture_key(_at("2026-11-25T12:40:00"), 1))

    plan = _planned(planner, "2026-11-25T14:00:00Z")

    assert (empty["has_data"], empty["no_data_reason"], empty["manifest_uri"]) == (False, "no_capture", None)
    assert plan["late_capture_files"] == 1


def test_files_listed_by_their_window_are_not_late(planner, s3):
    _put(s3, _capture_key(_at("2026-11-25T12:10:00"), 1))
    _planned(planner, "2026-11-25T13:00:00Z")

    plan = _planned(planner, "2026-11-25T14:00:00Z")

    assert plan["late_capture_files"] == 0


def test_without_a_listing_of_the_previous_window_nothing_is_counted(planner, s3):
    _put(s3, _capture_key(_at("2026-11-25T12:10:00"), 1))  # no execution planned 13:00's window

    plan = _planned(planner, "2026-11-25T14:00:00Z")

    assert "late_capture_files" not in plan
    assert plan["has_data"] is False


def test_a_late_file_that_the_next_window_reads_itself_is_not_counted(planner, s3):
    # windows of two hours every hour (a look-back): 12:xx is read again by the 14:00 window
    overlapping = {"window_start_offset": "-PT2H"}
    _planned(planner, "2026-11-25T13:00:00Z", **overlapping)
    _put(s3, _capture_key(_at("2026-11-25T12:50:00"), 1))  # read by the 14:00 window
    _put(s3, _capture_key(_at("2026-11-25T11:50:00"), 2))  # read by no window any more

    plan = _planned(planner, "2026-11-25T14:00:00Z", **overlapping)

    assert plan["late_capture_files"] == 1
    assert plan["object_count"] == 1


def test_a_capture_without_ground_truth_still_records_what_its_window_listed(planner, s3):
    ground_truth = {"ground_truth_s3_uri": f"s3://{BUCKET}/ground-truth/churn-ep"}
    _put(s3, _capture_key(_at("2026-11-25T12:20:00"), 1))
    waiting = _planned(planner, "2026-11-25T13:00:00Z", **ground_truth)

    plan = _planned(planner, "2026-11-25T14:00:00Z", **ground_truth)

    assert (waiting["no_data_reason"], waiting["manifest_uri"]) == ("no_ground_truth", None)
    assert plan["late_capture_files"] == 0


# -- one execution per window, and windows analysed again -------------------------------------------------------


def _execution(name: str, status: str = "RUNNING") -> str:
    """An execution of the monitor's state machine, known to Step Functions (moto) with ``status``."""
    from moto.stepfunctions.models import stepfunctions_backends

    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = f"arn:aws:states:{REGION}:{DEFAULT_ACCOUNT_ID}:stateMachine:churn-ep-data-quality"
    if not sfn.list_state_machines()["stateMachines"]:
        sfn.create_state_machine(name="churn-ep-data-quality", roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/m",
                                 definition='{"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}')
    arn = sfn.start_execution(stateMachineArn=machine, name=name)["executionArn"]
    stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].describe_execution(arn).status = status
    return arn


def _claim(s3) -> dict:
    return _read_json(s3, f"{REPORTS}/_manifests/churn-ep/churn-ep-data-quality/2026/11/25/13/execution-claim.json")


def test_a_failed_holder_s_window_is_taken_over_as_the_next_attempt_and_a_retried_planner_keeps_it(planner, s3):
    _put(s3, _capture_key(_at("2026-11-25T12:30:00"), 1))
    failed = _execution("hourly-tick")
    first = planner.handler(_event(execution_id=failed, claim_seconds=5400), None)
    boto3.client("stepfunctions", region_name=REGION).stop_execution(executionArn=failed)  # ABORTED
    rerun = _execution("rerun")

    taken = planner.handler(_event(execution_id=rerun, claim_seconds=5400), None)
    retried = planner.handler(_event(execution_id=rerun, claim_seconds=5400), None)

    assert (first["attempt"], taken["attempt"]) == (1, 2)
    assert taken["duplicate"] is False and taken["has_data"] is True
    assert taken["superseded"] == {"execution_id": failed, "status": "ABORTED", "attempt": 1}
    assert taken["job_name"] == first["job_name"] + "-attempt-2"
    assert taken["report_uri"] == f"{REPORTS}/churn-ep/churn-ep-data-quality/attempt-2/2026/11/25/13"
    assert taken["publication_receipt_uri"] == (f"{REPORTS}/_manifests/churn-ep/churn-ep-data-quality/2026/11/25/13/"
                                                "attempt-2/publication-receipt.json")
    assert {k: retried[k] for k in ("attempt", "job_name", "report_uri", "duplicate")} == \
        {k: taken[k] for k in ("attempt", "job_name", "report_uri", "duplicate")}
    assert _claim(s3)["execution_id"] == rerun and _claim(s3)["attempt"] == 2


def test_a_running_holder_keeps_its_window_and_its_attempt_names_the_duplicate_s_plan(planner, s3):
    _put(s3, _capture_key(_at("2026-11-25T12:30:00"), 1))
    planner.handler(_event(execution_id=_execution("hourly-tick", "FAILED"), claim_seconds=5400), None)
    running = _execution("rerun")
    taken = planner.handler(_event(execution_id=running, claim_seconds=5400), None)

    duplicate = planner.handler(_event(execution_id=_execution("rerun-again"), claim_seconds=5400,
                                       execution_input={"scheduled_time": "2026-11-25T13:00:00Z", "rerun": True}),
                                None)

    assert duplicate["duplicate"] is True and duplicate["already_analysed"] is False
    assert (duplicate["duplicate_of"], duplicate["holder_status"]) == (running, "RUNNING")
    assert duplicate["no_data_reason"] == "duplicate_execution" and duplicate["manifest_uri"] is None
    assert (duplicate["attempt"], duplicate["job_name"]) == (2, taken["job_name"])
    assert _claim(s3)["execution_id"] == running


def test_a_succeeded_holder_s_window_is_refused_without_rerun_and_taken_over_with_it(planner, s3, capsys):
    _put(s3, _capture_key(_at("2026-11-25T12:30:00"), 1))
    done = _execution("hourly-tick", "SUCCEEDED")
    planner.handler(_event(execution_id=done, claim_seconds=5400), None)
    capsys.readouterr()

    refused = planner.handler(_event(execution_id=_execution("late-delivery"), claim_seconds=5400,
                                     execution_input={"scheduled_time": "2026-11-25T13:00:00Z"}), None)
    [line] = log_lines(capsys.readouterr().out)
    asked = planner.handler(_event(execution_id=_execution("asked"), claim_seconds=5400,
                                   execution_input={"scheduled_time": "2026-11-25T13:00:00Z", "rerun": True}), None)

    assert refused["duplicate"] is True and refused["already_analysed"] is True
    assert refused["no_data_reason"] == "window_already_analysed" and refused["holder_status"] == "SUCCEEDED"
    assert line["outcome"] == "already_analysed" and '"rerun": true' in line["message"]
    assert asked["duplicate"] is False and asked["attempt"] == 2
    assert asked["superseded"] == {"execution_id": done, "status": "SUCCEEDED", "attempt": 1}


def test_a_claim_step_functions_cannot_describe_holds_until_it_expires_then_is_a_new_attempt(planner, s3,
                                                                                              monkeypatch):
    _put(s3, _capture_key(_at("2026-11-25T12:30:00"), 1))
    claimed = datetime(2026, 11, 25, 13, 15, tzinfo=UTC)
    monkeypatch.setattr(planner, "_now", lambda: claimed)
    unknown = EXECUTION.format("gone")  # its state machine is unknown to Step Functions here
    first = planner.handler(_event(execution_id=unknown, claim_seconds=5400), None)

    monkeypatch.setattr(planner, "_now", lambda: claimed + timedelta(seconds=5399))
    held = planner.handler(_event(execution_id=EXECUTION.format("early"), claim_seconds=5400), None)
    monkeypatch.setattr(planner, "_now", lambda: claimed + timedelta(seconds=5400))
    taken = planner.handler(_event(execution_id=EXECUTION.format("late"), claim_seconds=5400), None)

    assert held["duplicate"] is True and held["holder_status"] is None and held["duplicate_of"] == unknown
    assert taken["duplicate"] is False and taken["attempt"] == 2
    assert taken["superseded"] == {"execution_id": unknown, "status": None, "attempt": 1}
    assert taken["job_name"] == first["job_name"] + "-attempt-2"


def test_a_claim_written_before_attempts_were_counted_is_the_first_attempt(planner, s3):
    _put(s3, _capture_key(_at("2026-11-25T12:30:00"), 1))
    failed = _execution("hourly-tick", "FAILED")
    s3.put_object(Bucket=BUCKET, Key="reports/data-quality/_manifests/churn-ep/churn-ep-data-quality/2026/11/25/13/"
                  "execution-claim.json", Body=json.dumps({"execution_id": failed,
                                                           "claimed_at": "2026-11-25T13:15:00Z"}).encode())

    taken = planner.handler(_event(execution_id=_execution("rerun"), claim_seconds=5400), None)

    assert taken["attempt"] == 2 and taken["superseded"]["attempt"] == 1


THROTTLED = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'


def test_a_throttled_question_about_the_holder_is_a_retryable_error(planner, s3, monkeypatch):
    planner.handler(_event(execution_id=_execution("hourly-tick", "FAILED"), claim_seconds=5400), None)
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    fail_requests(planner.client("stepfunctions"), "DescribeExecution", [100], status=400, body=THROTTLED,
                  headers={"Content-Type": "application/x-amz-json-1.0"})

    with pytest.raises(planner.TransientAwsError, match="DescribeExecution of .*hourly-tick failed: Throttling"):
        planner.handler(_event(execution_id=_execution("rerun"), claim_seconds=5400), None)
    assert _claim(s3)["execution_id"].endswith(":hourly-tick")


def test_a_window_that_has_not_ended_is_refused_before_anything_is_claimed(planner, s3, monkeypatch):
    # started by hand with a time to come: analysed now, the window would miss captures and be taken from its
    # scheduled run
    monkeypatch.setattr(planner, "_now", lambda: _at("2026-11-25T12:30:00"))
    with pytest.raises(planner.PlanningInputError, match=r"\[2026-11-25T12:00:00Z, 2026-11-25T13:00:00Z\), which "
                                                         r"has not ended yet"):
        planner.handler(_event(execution_id="arn:aws:states:us-east-1:123456789012:execution:m:hand"), None)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0  # no claim, no manifest


def test_a_window_ending_at_its_scheduled_time_is_planned_even_a_moment_early(planner, s3, monkeypatch):
    monkeypatch.setattr(planner, "_now", lambda: _at("2026-11-25T12:59:30"))  # the Scheduler a little early
    _put(s3, _capture_key(_at("2026-11-25T12:10:00")))
    assert planner.handler(_event(), None)["has_data"] is True


# -- scale-out: the window's capture bytes and the runner -----------------------------------------------------


def _window_with_bodies(s3, sizes: list[int]) -> list[bytes]:
    """Capture files of the 12:00 hour with bodies of ``sizes`` bytes (and one of the hour before, not listed)."""
    bodies = [(b'{"captureData": {}}\n' * (size // 20 + 1))[:size] for size in sizes]
    for n, body in enumerate(bodies):
        _put(s3, _capture_key(_at("2026-11-25T12:10:00") + timedelta(minutes=n), n), body)
    _put(s3, _capture_key(_at("2026-11-25T11:10:00"), 99), b"x" * 5000)
    return bodies


def test_the_plan_reports_the_listed_capture_objects_total_size_as_s3_has_it(planner, s3):
    _window_with_bodies(s3, [1234, 40, 999])
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="datacapture/churn-ep/AllTraffic/2026/11/25/12/")["Contents"]

    plan = planner.handler(_event(), None)

    assert plan["capture_bytes"] == sum(o["Size"] for o in listed) == 1234 + 40 + 999
    assert plan["runner"] == "processing"  # no scale_out in the request


@pytest.mark.parametrize(("scale_out", "runner"), [
    ({"threshold_bytes": 2273, "always": False}, "spark"),       # exactly the window's bytes
    ({"threshold_bytes": 2274, "always": False}, "processing"),  # one byte more than the window holds
    ({"threshold_bytes": 10 ** 12, "always": True}, "spark"),
    ({"threshold_bytes": 0, "always": False}, "spark"),
])
def test_the_runner_is_spark_from_the_threshold_on_or_always_when_asked(planner, s3, scale_out, runner):
    _window_with_bodies(s3, [1234, 40, 999])

    plan = planner.handler(_event(scale_out=scale_out), None)

    assert plan["runner"] == runner


def test_a_malformed_scale_out_setting_is_a_planning_input_error(planner, s3):
    with pytest.raises(planner.PlanningInputError, match="scale_out"):
        planner.handler(_event(scale_out={"threshold_bytes": "10GB", "always": False}), None)
