"""Progress lines on long runs, alike for every monitor type: driven by a fake clock."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from model_monitor_analyzer.cli import build_parser, main
from model_monitor_analyzer.contract.paths import container_paths
from model_monitor_analyzer.jobs import progress as progress_module
from model_monitor_analyzer.jobs.progress import (
    LOG_INTERVAL_SECONDS,
    TERMINAL_INTERVAL_SECONDS,
    ProgressReporter,
    interval_for,
    progress_line,
)
from model_monitor_analyzer.monitors import bias
from model_monitor_analyzer.monitors.data_quality import environment as dq_environment
from model_monitor_analyzer.monitors.model_quality import environment as mq_environment
from tests.analyzer.test_bias_job import FEATURES, PREDICTED, _monitor_config, _ten_invocations, _write_lines
from tests.analyzer.test_model_quality_jobs import START, _binary_window


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(reporter: ProgressReporter, clock: FakeClock, *, seconds: int, records_per_second: int) -> None:
    for second in range(1, seconds + 1):
        clock.now += 1
        reporter.update(second * records_per_second)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_terminal_gets_a_line_every_few_seconds():
    clock, stream = FakeClock(), Terminal()
    _run(ProgressReporter(enabled=True, stream=stream, clock=clock), clock, seconds=20, records_per_second=100)
    assert len(_lines(stream)) == 20 // TERMINAL_INTERVAL_SECONDS


def test_a_line_says_the_records_read_and_the_rate():
    clock, stream = FakeClock(), Terminal()
    _run(ProgressReporter(enabled=True, stream=stream, clock=clock), clock, seconds=5, records_per_second=300_000)
    assert _lines(stream) == ["progress: 1,500,000 records read, 300,000 records/s"]


def test_a_known_total_gives_the_time_left():
    clock, stream = FakeClock(), Terminal()
    reporter = ProgressReporter(enabled=True, stream=stream, clock=clock, total=6_000_000)
    _run(reporter, clock, seconds=5, records_per_second=300_000)
    # 4.5M records left at 300,000 a second
    assert _lines(stream) == ["progress: 1,500,000 records read, 300,000 records/s, about 15 s left"]


def test_quiet_prints_nothing_at_all():
    clock, stream = FakeClock(), Terminal()
    reporter = ProgressReporter(enabled=False, stream=stream, clock=clock)
    _run(reporter, clock, seconds=600, records_per_second=1000)
    reporter.finish(600_000)
    assert stream.getvalue() == ""


def test_container_logs_get_at_most_one_line_a_minute():
    clock, stream = FakeClock(), io.StringIO()  # a processing job's stderr is not a terminal
    _run(ProgressReporter(enabled=True, stream=stream, clock=clock), clock, seconds=600, records_per_second=1000)
    lines = _lines(stream)
    assert len(lines) == 600 // LOG_INTERVAL_SECONDS
    assert lines[0] == "progress: 60,000 records read, 1,000 records/s"


def test_streams_without_isatty_count_as_logs():
    assert interval_for(object()) == LOG_INTERVAL_SECONDS  # type: ignore[arg-type]


def test_a_run_shorter_than_the_interval_stays_silent_even_when_it_finishes():
    clock, stream = FakeClock(), io.StringIO()
    reporter = ProgressReporter(enabled=True, stream=stream, clock=clock)
    _run(reporter, clock, seconds=59, records_per_second=1000)
    reporter.finish(59_000)
    assert stream.getvalue() == ""


def test_a_run_that_printed_ends_with_its_total():
    clock, stream = FakeClock(), io.StringIO()
    reporter = ProgressReporter(enabled=True, stream=stream, clock=clock)
    _run(reporter, clock, seconds=150, records_per_second=1000)
    reporter.finish(150_000)
    assert _lines(stream)[-1] == "progress: done, 150,000 records read in 2 min"


def test_counted_items_pass_unchanged_and_are_counted():
    clock, stream = FakeClock(), Terminal()
    reporter = ProgressReporter(enabled=True, stream=stream, clock=clock)

    def items():
        for i in range(5000):
            clock.now += 0.01
            yield i

    assert list(reporter.counted(items())) == list(range(5000))
    assert _lines(stream)[-1] == "progress: done, 5,000 records read in 50 s"


@pytest.mark.parametrize(("elapsed", "rate"), [(0.0, "0"), (2.0, "250")])
def test_the_rate_is_records_over_elapsed_seconds(elapsed, rate):
    assert progress_line(500, elapsed) == f"progress: 500 records read, {rate} records/s"


@pytest.mark.parametrize(
    ("monitor_type", "required"),
    [("data-quality", ["--capture", "c", "--statistics", "s", "--constraints", "k"]),
     ("model-quality", []),
     ("bias", ["--analysis-config", "a"])],
)  # fmt: skip
def test_every_monitor_type_reports_progress_unless_quiet(monitor_type, required, tmp_path):
    parser = build_parser(monitor_type)
    argv = ["monitor", "--type", monitor_type, *required, "--output", str(tmp_path)]
    assert parser.parse_args(argv).progress is True
    assert parser.parse_args([*argv, "--quiet"]).progress is False


def test_every_container_contract_turns_progress_on(tmp_path):
    schedule = {"sagemaker_monitoring_schedule_name": "s", "start_time": "2024-01-19T20:00:00Z"}
    model_quality = {**schedule, "problem_type": "Regression", "inference_attribute": "0"}
    assert mq_environment.monitor_request_from_environment(model_quality, container_paths({})).reading.progress is True
    assert bias.monitor_request_from_environment(schedule, container_paths({})).progress is True
    request = dq_environment.monitor_request_from_environment({**schedule, "baseline_statistics": "s.json", "baseline_constraints": "k.json"}, container_paths({}))
    assert request.reading.progress is True


@pytest.fixture
def every_update_printed(monkeypatch):
    """Progress as if every record took a minute: each look at the clock prints."""
    monkeypatch.setattr(progress_module, "LOG_INTERVAL_SECONDS", 0.0)
    monkeypatch.setattr(progress_module, "_CLOCK_EVERY_ITEMS", 1)


def test_a_data_quality_baseline_reports_the_records_it_profiled(reference_examples, tmp_path, capsys,
                                                                 every_update_printed):
    dataset = reference_examples / "sdk-data-quality-check" / "baseline_dataset.csv"
    assert main(["baseline", "--dataset", str(dataset), "--no-header", "--output", str(tmp_path)]) == 0
    rows = len(pd.read_csv(dataset, header=None))
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"progress: done, {rows:,} records read in ")


def test_a_model_quality_window_reports_the_captures_it_read(tmp_path, capsys, every_update_printed):
    _binary_window(tmp_path)
    assert main(["monitor", "--type", "model-quality", "--capture", str(tmp_path / "capture"),
                 "--ground-truth", str(tmp_path / "groundtruth"), "--output", str(tmp_path / "out"),
                 "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
                 "--probability-threshold", "0.5", "--ground-truth-lookback", "PT2H", "--no-metrics",
                 "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", "2024-05-02T11:00:00Z"]) == 0  # fmt: skip
    err = capsys.readouterr().err.splitlines()
    # captures are read a chunk of lines at a time: a line per chunk read, then the total
    assert err[0].startswith("progress: 300 records read, ")
    assert [line for line in err if line.startswith("progress:")][-1].startswith("progress: done, 300 records read in ")


def test_a_bias_window_reports_the_merged_records_it_read(reference_examples, tmp_path, capsys, every_update_printed):
    merged = _write_lines(tmp_path / "merged" / "part.jsonl", _ten_invocations(reference_examples))
    assert main(["monitor", "--type", "bias", "--analysis-config", str(_monitor_config(reference_examples, tmp_path)),
                 "--merged", str(merged.parent), "--features-attribute", FEATURES, "--inference-attribute", PREDICTED,
                 "--output", str(tmp_path / "out"), "--no-metrics"]) == 0  # fmt: skip
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("progress:")]
    assert lines[-1].startswith("progress: done, 10 records read in ")
    assert (tmp_path / "out" / "analysis.json").exists()


def test_lines_count_the_records_of_helper_processes_too():
    import multiprocessing

    counter = multiprocessing.get_context("fork").Value("q", 0)
    helper = ProgressReporter.helper(counter)
    helper.update(300)
    helper.update(700)  # adds only the 400 read since the last update
    clock, stream = FakeClock(), Terminal()
    main_part = ProgressReporter(enabled=True, stream=stream, clock=clock)
    main_part.include(counter)
    clock.now += TERMINAL_INTERVAL_SECONDS
    main_part.update(500)
    assert counter.value == 700
    assert _lines(stream)[-1].startswith("progress: 1,200 records read, ")


def test_a_split_data_quality_run_ends_with_the_records_of_every_part(tmp_path, capsys, monkeypatch, every_update_printed):
    from model_monitor_analyzer.monitors.data_quality import run as data_quality
    from tests.analyzer.test_parallel_profile import _parallel

    _parallel(monkeypatch, 1)
    data = tmp_path / "data.csv"
    data.write_text("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(5000)))
    assert data_quality.worker_count(2, data.stat().st_size) == 2
    assert main(["baseline", "--dataset", str(data), "--output", str(tmp_path / "out"), "--workers", "2"]) == 0
    assert capsys.readouterr().err.splitlines()[-1].startswith("progress: done, 5,000 records read in ")
