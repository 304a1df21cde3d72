"""The Spark runner of data quality against the local engine on the same files, at several partitionings.

Exact fields (counts, types, minimum, maximum, categories, violations, verdicts) are identical; sums and
means equal to rounding (they are added in another order, as the local engine's own workers add them);
the KLL buckets within the sketch's rank error (each bucket edge is a rank, off by under 1 % of the
values for k=2048, see ``tests/analyzer/test_kll.py``), against numpy's exact count where the data is known.
"""

from __future__ import annotations

import gzip
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

from model_monitor_analyzer import cli

RANK_ERROR = 0.01  # KLL k=2048: a normalised rank is off by less than this (tests/analyzer/test_kll.py)
WINDOW = ("2024-03-01T10:00:00Z", "2024-03-01T10:45:00Z")
KINDS = np.array(["red", "green", "blue", '"navy, dark"', "ünïcode"])


def _rows(rng: np.random.Generator, count: int) -> pd.DataFrame:
    decimals = rng.integers(0, 6, size=count)
    ages = rng.normal(40, 12, size=count)
    return pd.DataFrame({
        "score": [f"{value:.6f}" for value in rng.random(count)],
        "age": [f"{age:.{d}f}" for age, d in zip(ages, decimals, strict=True)],
        "count": [str(value) for value in rng.poisson(3, size=count)],
        "kind": rng.choice(KINDS, size=count, p=[0.4, 0.3, 0.2, 0.05, 0.05]),
    })


def _capture_record(row, time: datetime, *, json_input: bool) -> bytes:
    if json_input:
        fields = [float(row.age), int(row.count), row.kind]
        payload = {"data": json.dumps(fields), "encoding": "JSON", "observedContentType": "application/json"}
    else:
        kind = '"' + row.kind.replace('"', '""') + '"' if '"' in row.kind or "," in row.kind else row.kind
        payload = {"data": f"{row.age},{row.count},{kind}", "encoding": "CSV", "observedContentType": "text/csv"}
    return orjson.dumps({
        "captureData": {"endpointInput": payload,
                        "endpointOutput": {"data": row.score, "encoding": "CSV", "observedContentType": "text/csv"}},
        "eventMetadata": {"eventId": "e", "inferenceTime": time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
        "eventVersion": "0",
    })


def write_capture(root: Path, *, files: int = 3, per_file: int = 1_500, seed: int = 5) -> Path:
    """Capture files of one hour as SageMaker writes them, with the odd records users have: JSON payloads, quoted
    values, a short record, a blank line, a malformed line, records outside the window."""
    rng = np.random.default_rng(seed)
    folder = root / "capture" / "ep" / "AllTraffic" / "2024" / "03" / "01" / "10"
    folder.mkdir(parents=True)
    start = datetime(2024, 3, 1, 10, tzinfo=UTC)
    for index in range(files):
        rows = _rows(rng, per_file)
        seconds = np.sort(rng.integers(0, 3600, size=per_file))
        lines = [_capture_record(row, start + timedelta(seconds=int(second), milliseconds=int(index)),
                                 json_input=position % 97 == 5)
                 for position, (row, second) in enumerate(zip(rows.itertuples(), seconds, strict=True))]
        lines[11] = b'{"captureData": {"endpointInput": {"data": "41.5,2'  # cut short
        lines[20] = b""
        lines[31] = lines[31].replace(b',\\"navy', b'').replace(b",red", b"").replace(b",blue", b"")
        (folder / f"capture-{index:02d}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return root / "capture"


def write_dataset(path: Path, *, rows: int = 12_000, seed: int = 9) -> pd.DataFrame:
    frame = _rows(np.random.default_rng(seed), rows)
    frame.loc[frame.index % 53 == 7, "age"] = ""  # missing values
    if path.suffix == ".csv":
        path.write_text("score,age,count,kind\n" + "\n".join(
            ",".join('"' + v.replace('"', '""') + '"' if ('"' in v or "," in v) else v for v in values)
            for values in frame.itertuples(index=False)) + "\n")
    else:
        with path.open("wb") as handle:
            for values in frame.itertuples(index=False):
                record = {"score": float(values.score), "person": {"age": float(values.age) if values.age else None,
                                                                   "count": int(values.count)}, "kind": values.kind}
                handle.write(orjson.dumps(record) + b"\n")
    return frame


def run(*args: str) -> int:
    return cli.main([*args, "--quiet"])


def documents(folder: Path) -> dict[str, object]:
    return {path.name: (json.loads(path.read_text()) if path.suffix == ".json" else path.read_text())
            for path in sorted(folder.rglob("*")) if path.is_file() and path.suffix in (".json", ".jsonl")}


def _total_weight(sketch: dict) -> int:
    return sum(len(level) << height for height, level in enumerate(sketch["data"]))


def assert_same_statistics(ours: dict, theirs: dict, *, exact: dict[str, np.ndarray] | None = None) -> None:
    """Exact fields identical, sums to rounding, KLL buckets within twice the rank error of each other (or of
    numpy's exact counts, for the columns in ``exact``)."""
    assert ours["dataset"] == theirs["dataset"]
    assert [f["name"] for f in ours["features"]] == [f["name"] for f in theirs["features"]]
    for mine, other in zip(ours["features"], theirs["features"], strict=True):
        assert mine["inferred_type"] == other["inferred_type"], mine["name"]
        if "string_statistics" in mine:
            assert mine["string_statistics"] == other["string_statistics"], mine["name"]
            continue
        a, b = mine["numerical_statistics"], other["numerical_statistics"]
        assert (a["common"], a["min"], a["max"]) == (b["common"], b["min"], b["max"]), mine["name"]
        for key in ("mean", "sum", "std_dev"):
            assert math.isclose(a[key], b[key], rel_tol=1e-9, abs_tol=1e-9), (mine["name"], key)
        kll_a, kll_b = a["distribution"]["kll"], b["distribution"]["kll"]
        assert kll_a["sketch"]["parameters"] == kll_b["sketch"]["parameters"]
        assert _total_weight(kll_a["sketch"]) == _total_weight(kll_b["sketch"])
        present = a["common"]["num_present"]
        edges = [(x["lower_bound"], x["upper_bound"]) for x in kll_a["buckets"]]
        assert edges == [(x["lower_bound"], x["upper_bound"]) for x in kll_b["buckets"]]
        counts_a = np.array([x["count"] for x in kll_a["buckets"]])
        counts_b = np.array([x["count"] for x in kll_b["buckets"]])
        if exact is not None and mine["name"] in exact:
            values = np.sort(exact[mine["name"]])
            lows = np.searchsorted(values, [low for low, _ in edges], side="left")
            highs = np.searchsorted(values, [high for _, high in edges], side="left")
            highs[-1] = len(values)  # the last bucket holds the maximum
            truth = highs - lows
            for counts in (counts_a, counts_b):
                assert np.all(np.abs(counts - truth) <= 2 * RANK_ERROR * present), (mine["name"], counts, truth)
        else:
            assert np.all(np.abs(counts_a - counts_b) <= 4 * RANK_ERROR * present), (mine["name"], counts_a, counts_b)


def assert_same_metric_lines(ours: str, theirs: str) -> None:
    """The same metrics with the same dimensions; counts identical, values of sketch-derived drift close."""
    def lines(text):
        return {line["MetricName"]: line for line in map(json.loads, text.splitlines())}

    mine, other = lines(ours), lines(theirs)
    assert mine.keys() == other.keys()
    for name, line in mine.items():
        assert line["Dimensions"] == other[name]["Dimensions"] and line["Timestamp"] == other[name]["Timestamp"]
        if "StatisticValues" in line:
            a, b = line["StatisticValues"], other[name]["StatisticValues"]
            assert (a["SampleCount"], a["Minimum"], a["Maximum"]) == (b["SampleCount"], b["Minimum"], b["Maximum"])
        elif "drift" not in name:
            assert line["Value"] == other[name]["Value"], name


def _baseline(tmp_path: Path) -> Path:
    dataset = tmp_path / "train.csv"
    write_dataset(dataset)
    assert run("baseline", "--dataset", str(dataset), "--output", str(tmp_path / "baseline")) == 0
    return tmp_path / "baseline"


def _monitor(capture: Path | str, baseline: Path, output: Path | str, *extra: str) -> int:
    return run("monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
               "--constraints", str(baseline / "constraints.json"), "--output", str(output), "--start", WINDOW[0],
               "--end", WINDOW[1], "--endpoint", "ep", "--schedule", "hourly", "--metric-time", WINDOW[1], *extra)


@pytest.mark.parametrize(("suffix", "split_bytes"), [(".csv", None), (".csv", 40 << 10), (".jsonl", 40 << 10)])
def test_a_baseline_on_spark_has_the_local_statistics_and_constraints(tmp_path, spark, split_files, suffix, split_bytes):
    dataset = tmp_path / f"train{suffix}"
    frame = write_dataset(dataset)
    assert run("baseline", "--dataset", str(dataset), "--output", str(tmp_path / "local")) == 0
    with split_files(split_bytes):
        assert run("baseline", "--engine", "spark", "--dataset", str(dataset), "--output", str(tmp_path / "spark")) == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    score = frame["score"].astype(float).to_numpy()
    assert_same_statistics(local["statistics.json"], ours["statistics.json"], exact={"score": score})
    assert local["constraints.json"] == ours["constraints.json"]
    assert ours["outcome.json"]["status"] == "Completed"
    assert ours["statistics.json"]["dataset"]["item_count"] == len(frame)


def test_a_folder_of_csv_files_each_with_its_header(tmp_path, spark, split_files):
    whole = tmp_path / "whole.csv"
    frame = write_dataset(whole, rows=6_000)
    header, *lines = whole.read_text().splitlines()
    folder = tmp_path / "train"
    folder.mkdir()
    for index in range(3):
        (folder / f"part-{index}.csv").write_text("\n".join([header, *lines[index::3]]) + "\n")
    (folder / "_SUCCESS").write_text("")
    assert run("baseline", "--dataset", str(folder), "--output", str(tmp_path / "local")) == 0
    with split_files(24 << 10):
        assert run("baseline", "--engine", "spark", "--dataset", str(folder), "--output", str(tmp_path / "spark")) == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert_same_statistics(local["statistics.json"], ours["statistics.json"],
                           exact={"score": frame["score"].astype(float).to_numpy()})
    assert ours["statistics.json"]["dataset"]["item_count"] == len(frame)  # no header read as a row


@pytest.mark.parametrize("split_bytes", [None, 40 << 10])
def test_a_monitoring_run_on_spark_has_the_local_results(tmp_path, spark, split_files, split_bytes):
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path)
    assert _monitor(capture, baseline, tmp_path / "local") == 0
    with split_files(split_bytes):
        assert _monitor(capture, baseline, tmp_path / "spark", "--engine", "spark") == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])
    assert local["constraints.json"] == ours["constraints.json"]
    assert local["constraint_violations.json"] == ours["constraint_violations.json"]
    assert_same_metric_lines(local["cloudwatch_metrics.jsonl"], ours["cloudwatch_metrics.jsonl"])
    summary = ours["outcome.json"]["summary"]
    assert summary["bad_records"] == 3  # the cut line of each file (a short record has missing values)
    assert summary["records"] + summary["records_outside_window"] + summary["bad_records"] == 3 * 1_500 - 3
    assert ours["statistics.json"]["dataset"]["item_count"] == summary["records"]


def test_files_read_whole_and_files_split_together_have_the_local_results(tmp_path, spark, split_files):
    """Files no larger than a split go whole to the Python workers (a gzip one, one with a byte-order mark and
    Windows line breaks), larger ones in splits of lines: together, the local engine's results."""
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path)
    folder = next(capture.rglob("capture-00.jsonl")).parent
    first = folder / "capture-00.jsonl"
    (folder / "capture-00.jsonl.gz").write_bytes(gzip.compress(first.read_bytes()))
    first.unlink()
    second = folder / "capture-01.jsonl"
    lines = second.read_bytes().split(b"\n")[:400]
    second.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    split = 256 << 10
    sizes = sorted(path.stat().st_size for path in folder.iterdir())
    assert sizes[0] < sizes[1] <= split < sizes[2]  # two files read whole, one in splits
    assert _monitor(capture, baseline, tmp_path / "local") == 0
    with split_files(split):
        assert _monitor(capture, baseline, tmp_path / "spark", "--engine", "spark") == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])
    assert local["constraint_violations.json"] == ours["constraint_violations.json"]
    summary = ours["outcome.json"]["summary"]
    assert summary["bad_records"] == 3  # the cut line of each file
    assert summary["records"] + summary["records_outside_window"] + summary["bad_records"] == 2 * 1_500 + 400 - 3


def test_spark_results_do_not_depend_on_the_partitioning(tmp_path, spark, split_files):
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path, files=2, per_file=2_000)
    results = {}
    for split_bytes in (None, 128 << 10, 32 << 10, 32 << 10):
        output = tmp_path / f"spark-{split_bytes}-{len(results)}"
        with split_files(split_bytes):
            assert _monitor(capture, baseline, output, "--engine", "spark") == 0
        results[output.name] = documents(output)
    (first, *others) = results.values()
    for other in others:
        assert_same_statistics(first["statistics.json"], other["statistics.json"])
        assert first["constraint_violations.json"] == other["constraint_violations.json"]
        assert first["outcome.json"] == other["outcome.json"]
    twice = list(results.values())[-2:]  # the same partitioning twice: the merges are deterministic
    assert twice[0]["statistics.json"] == twice[1]["statistics.json"]


def test_a_manifest_reads_exactly_the_objects_it_lists(tmp_path, spark):
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path, files=4, per_file=500)
    files = sorted(capture.rglob("*.jsonl"))
    listed = [files[0], files[2]]
    manifest = tmp_path / "capture.manifest.json"
    manifest.write_text(json.dumps([{"prefix": capture.as_uri() + "/"},
                                    *(str(path.relative_to(capture)) for path in listed)]))
    alone = tmp_path / "listed"
    for path in listed:
        (alone / path.relative_to(capture)).parent.mkdir(parents=True, exist_ok=True)
        (alone / path.relative_to(capture)).write_bytes(path.read_bytes())
    assert _monitor(alone, baseline, tmp_path / "local") == 0
    assert _monitor(manifest, baseline, tmp_path / "spark", "--engine", "spark") == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])
    assert local["constraint_violations.json"] == ours["constraint_violations.json"]


def test_outputs_given_as_uris_refuse_an_earlier_run_unless_overwrite(tmp_path, spark, capsys):
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path, files=1, per_file=800)
    output = (tmp_path / "reports").as_uri()
    metrics = (tmp_path / "metrics").as_uri()
    statistics = (baseline / "statistics.json").as_uri()
    args = ("monitor", "--engine", "spark", "--capture", capture.as_uri(), "--statistics", statistics,
            "--constraints", (baseline / "constraints.json").as_uri(), "--output", output, "--metrics-dir", metrics,
            "--start", WINDOW[0], "--end", WINDOW[1])
    assert run(*args) == 0
    written = capsys.readouterr().out
    assert f"wrote {output}/statistics.json" in written and f"wrote {metrics}/cloudwatch_metrics.jsonl" in written
    first = (tmp_path / "reports" / "statistics.json").read_bytes()
    assert json.loads((tmp_path / "reports" / "outcome.json").read_text())["status"] in ("Completed",
                                                                                       "CompletedWithViolations")
    assert run(*args) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "holds an earlier run's" in error and "--overwrite" in error
    assert (tmp_path / "reports" / "statistics.json").read_bytes() == first  # nothing lost
    assert run(*args, "--overwrite") == 0
    assert sorted(path.name for path in (tmp_path / "reports").iterdir()) == [
        "constraint_violations.json", "constraints.json", "outcome.json", "report.html", "statistics.json"]


def test_an_output_uri_where_the_baseline_is_is_refused_before_anything_is_read(tmp_path, spark, capsys):
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path, files=1, per_file=50)
    before = (baseline / "statistics.json").read_bytes()
    assert run("monitor", "--engine", "spark", "--capture", str(capture), "--statistics",
               (baseline / "statistics.json").as_uri(), "--constraints", str(baseline / "constraints.json"),
               "--output", baseline.as_uri(), "--overwrite") == 2
    error = capsys.readouterr().err.strip()
    assert error.splitlines() == [error] and "would overwrite the input" in error
    assert (baseline / "statistics.json").read_bytes() == before


def test_a_missing_baseline_uri_is_one_line(tmp_path, spark, capsys):
    capture = write_capture(tmp_path, files=1, per_file=50)
    missing = (tmp_path / "nowhere" / "statistics.json").as_uri()
    assert run("monitor", "--engine", "spark", "--capture", str(capture), "--statistics", missing,
               "--constraints", missing, "--output", str(tmp_path / "out")) == 2
    error = capsys.readouterr().err.strip()
    assert error.splitlines() == [error] and "file not found" in error and "nowhere" in error


def test_spark_submit_runs_the_entry_point_on_local_1(tmp_path):
    """container/spark_entry.py as EMR Serverless runs it: spark-submit's own Python driver, its master (local[1])."""
    import os
    import subprocess
    import sys

    import pyspark

    root = Path(__file__).resolve().parents[3]
    dataset = tmp_path / "train.csv"
    write_dataset(dataset, rows=2_000)
    assert run("baseline", "--dataset", str(dataset), "--output", str(tmp_path / "local")) == 0
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(root / "container" / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [str(submit), "--master", "local[1]", "--conf", "spark.ui.enabled=false", str(root / "container" / "spark_entry.py"),
         "baseline", "--engine", "spark", "--dataset", dataset.as_uri(), "--output", (tmp_path / "spark").as_uri()],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"wrote {(tmp_path / 'spark').as_uri()}/statistics.json" in done.stdout
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])
    assert local["constraints.json"] == ours["constraints.json"]


def test_an_error_found_after_spark_starts_is_the_only_line_a_user_reads(tmp_path):
    """The command line starting Spark itself: Spark's start-up log lines (its log4j profile, the default log level,
    host-name and native-library warnings) are not printed before the analyzer's one-line error; the JVM's own
    notice of its incubator module is the one line left."""
    import os
    import subprocess
    import sys

    dataset = tmp_path / "train.csv"
    write_dataset(dataset, rows=200)
    assert run("baseline", "--dataset", str(dataset), "--output", str(tmp_path / "baseline")) == 0
    capture = tmp_path / "capture.jsonl"
    capture.write_text('{"not": "a capture record"}\n')
    env = {key: value for key, value in os.environ.items() if key not in {"PYSPARK_GATEWAY_PORT", "SPARK_CONF_DIR"}}
    done = subprocess.run(
        [sys.executable, "-m", "model_monitor_analyzer", "monitor", "--engine", "spark", "--spark-master", "local[1]",
         "--capture", str(capture), "--statistics", str(tmp_path / "baseline" / "statistics.json"),
         "--constraints", str(tmp_path / "baseline" / "constraints.json"), "--output", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    said = [line for line in done.stderr.splitlines()
            if line.strip() and not line.startswith("WARNING: Using incubator modules")]
    assert len(said) == 1 and said[0].startswith("error: ") and "captureData" in said[0], done.stderr


def test_a_capture_tree_with_a_long_hour_before_the_window_is_read_with_the_window_shape(tmp_path, spark):
    """A whole capture tree passed for one window, the hour before it holding more lines than the shape look copies:
    the window's own hour is looked at first, so an input-only baseline reads the input alone on both engines (it
    read the output as a first column on Spark when the look met no record of the window)."""
    dataset = tmp_path / "train.csv"
    write_dataset(dataset)
    features = pd.read_csv(dataset, dtype=str, keep_default_na=False).drop(columns=["score"])
    features.to_csv(dataset, index=False)
    assert run("baseline", "--dataset", str(dataset), "--output", str(tmp_path / "baseline")) == 0
    capture = write_capture(tmp_path)
    earlier = capture / "ep" / "AllTraffic" / "2024" / "03" / "01" / "09"
    earlier.mkdir(parents=True)
    rows = _rows(np.random.default_rng(3), 1_500)
    start = datetime(2024, 3, 1, 9, tzinfo=UTC)
    (earlier / "capture-00.jsonl").write_bytes(b"\n".join(
        _capture_record(row, start + timedelta(seconds=2 * index), json_input=False)
        for index, row in enumerate(rows.itertuples())) + b"\n")
    baseline = tmp_path / "baseline"
    assert _monitor(capture, baseline, tmp_path / "local") == 0
    assert _monitor(capture, baseline, tmp_path / "spark", "--engine", "spark") == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert [f["name"] for f in ours["statistics.json"]["features"]] == ["age", "count", "kind"]
    assert local["constraint_violations.json"] == ours["constraint_violations.json"]
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])


def test_a_window_mixing_records_without_an_output_has_the_local_results(tmp_path, spark):
    """A window whose first file's records have no model output (endpointInput only), against a baseline of output +
    input columns: on both engines those records have a missing score, their input in the input's columns."""
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path, files=2, per_file=600)
    first = next(capture.rglob("capture-00.jsonl"))
    without = 0
    lines = []
    for line in first.read_bytes().split(b"\n"):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:  # the cut line and the blank one stay as they are
            lines.append(line)
            continue
        del record["captureData"]["endpointOutput"]
        without += WINDOW[0] <= record["eventMetadata"]["inferenceTime"] < WINDOW[1]
        lines.append(orjson.dumps(record))
    first.write_bytes(b"\n".join(lines))
    assert _monitor(capture, baseline, tmp_path / "local") == 0
    assert _monitor(capture, baseline, tmp_path / "spark", "--engine", "spark") == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])
    assert local["constraint_violations.json"] == ours["constraint_violations.json"]
    features = {feature["name"]: feature for feature in ours["statistics.json"]["features"]}
    assert list(features) == ["score", "age", "count", "kind"]
    assert features["score"]["numerical_statistics"]["common"]["num_missing"] == without
    assert features["count"]["inferred_type"] == "Integral"
    kinds = {bucket["value"] for bucket in features["kind"]["string_statistics"]["distribution"]["categorical"]["buckets"]}
    assert kinds <= set(KINDS)  # no number shifted into the last column
    checks = {(v["feature_name"], v["constraint_check_type"]) for v in ours["constraint_violations.json"]["violations"]}
    assert ("score", "completeness_check") in checks
    assert not [check for check in checks if check[1] in ("data_type_check", "extra_column_check",
                                                          "missing_column_check")]
