"""Files read whole by the executors themselves: the driver lists the files with their sizes and hands each task the
names of consecutive files (``data_quality._named_files``); the executor reads them one at a time
(``partitions.read_whole_file``: ``file:`` paths, S3 objects through boto3). Files the executors cannot read so go
through Spark's ``binaryFile`` reader, and both give the same results."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.spark import data_quality, partitions
from model_monitor_analyzer.spark.data_quality import (
    SparkProfiler,
    _byte_size,
    _named_files,
    task_bytes,
    whole_and_split_files,
)
from model_monitor_analyzer.spark.locations import HadoopFiles, RemoteFile, spark_location

from .test_spark_data_quality import (
    _baseline,
    _monitor,
    assert_same_statistics,
    documents,
    run,
    write_capture,
    write_dataset,
)


def test_a_listed_file_is_read_by_the_name_hadoop_lists_it_under(tmp_path, spark):
    folder = tmp_path / "odd names"
    folder.mkdir()
    written = {"a b.jsonl": b"one\n", "c%41d.jsonl": b"two\n", "e#f?g.jsonl": b"three\n"}
    for name, data in written.items():
        (folder / name).write_bytes(data)
    listed = HadoopFiles(spark).files_under(spark_location(folder))
    assert sorted(partitions.read_whole_file(file.uri) for file in listed) == sorted(written.values())
    path = folder / "a b.jsonl"
    assert partitions.read_whole_file(f"file://{path}") == b"one\n"
    assert partitions.read_whole_file(f"file:{path}") == b"one\n"


def test_a_file_gone_since_the_listing_is_one_input_error(tmp_path):
    gone = tmp_path / "gone.jsonl"
    with pytest.raises(AnalyzerInputError) as caught:
        partitions.read_whole_file(f"file:{gone}")
    assert caught.value.path == f"file:{gone}"
    assert "cannot read this file" in caught.value.message


def test_an_s3_object_is_read_through_boto3(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    partitions._s3_client.cache_clear()
    try:
        with mock_aws():
            s3 = boto3.client("s3")
            s3.create_bucket(Bucket="capture-test-bucket")
            s3.put_object(Bucket="capture-test-bucket", Key="ep/2024/03/01/10/a b#1.jsonl", Body=b"{}\n")
            for scheme in ("s3", "s3a", "s3n"):
                assert partitions.read_whole_file(f"{scheme}://capture-test-bucket/ep/2024/03/01/10/a b#1.jsonl") == b"{}\n"
            with pytest.raises(AnalyzerInputError) as caught:
                partitions.read_whole_file("s3://capture-test-bucket/ep/missing.jsonl")
            assert "NoSuchKey" in caught.value.message
    finally:
        partitions._s3_client.cache_clear()


@pytest.fixture
def s3_bucket(monkeypatch):
    """A moto S3 bucket in this process (``mock_aws``), with the S3 client the executors' code caches made anew."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    partitions._s3_client.cache_clear()
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="capture-test-bucket")
        yield boto3.client("s3")
    partitions._s3_client.cache_clear()


def test_executors_read_local_files_and_s3_objects_unless_hadoop_has_its_own_s3_settings(spark, s3_bucket):
    s3_bucket.put_object(Bucket="capture-test-bucket", Key="a.jsonl", Body=b"{}\n")
    files = HadoopFiles(spark)
    assert files.read_on_executors("file:/data/a.jsonl")
    assert files.read_on_executors("s3://capture-test-bucket/a.jsonl")
    assert not files.read_on_executors("hdfs://namenode/a.jsonl")
    import importlib.util

    real_find_spec = importlib.util.find_spec
    with pytest.MonkeyPatch.context() as patch:  # an image without boto3: Spark's connector reads S3
        patch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real_find_spec(name, *a))
        assert not HadoopFiles(spark).read_on_executors("s3://capture-test-bucket/a.jsonl")
        assert HadoopFiles(spark).read_on_executors("file:/data/a.jsonl")
    conf = spark._jsc.hadoopConfiguration()
    conf.set("fs.s3a.endpoint", "http://localhost:9000")
    try:
        assert not HadoopFiles(spark).read_on_executors("s3a://capture-test-bucket/a.jsonl")
        assert HadoopFiles(spark).read_on_executors("file:/data/a.jsonl")
    finally:
        conf.unset("fs.s3a.endpoint")


@pytest.mark.parametrize(("default_region", "region"), [(None, "eu-west-1"), ("eu-central-1", "eu-west-1")])
def test_the_s3_client_asks_the_region_the_environment_names(monkeypatch, default_region, region):
    """boto3 alone reads AWS_DEFAULT_REGION only; without a region it asks the global endpoint, out of a job's reach."""
    if default_region is None:
        monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    else:
        monkeypatch.setenv("AWS_DEFAULT_REGION", default_region)
    monkeypatch.setenv("AWS_REGION", region)
    partitions._s3_client.cache_clear()
    try:
        assert partitions._s3_client().meta.region_name == (default_region or region)
    finally:
        partitions._s3_client.cache_clear()


def _no_aws_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    partitions._s3_client.cache_clear()


def test_objects_boto3_cannot_read_on_the_driver_go_to_sparks_reader_with_one_note(tmp_path, spark, capsys,
                                                                                    monkeypatch):
    """No credentials for boto3 (or access denied): the bucket's objects are read by Spark's own reader, as before the
    executors read them, and one note says why; the run does not fail for it."""
    from pyspark.sql.readwriter import DataFrameReader

    _no_aws_credentials(monkeypatch, tmp_path)
    capture = write_capture(tmp_path, files=3, per_file=40)
    local = sorted(capture.rglob("*.jsonl"))
    uris = [f"s3://capture-test-bucket/{path.relative_to(tmp_path).as_posix()}" for path in local]
    asked: list[tuple[str, list[str]]] = []
    real_format, real_load = DataFrameReader.format, DataFrameReader.load

    def format_(reader, source):
        asked.append((source, []))
        return real_format(reader, source)

    def load(reader, paths=None, *args, **kwargs):  # Spark's reader given the objects; this machine has no S3A
        asked[-1][1].extend(paths)
        return real_load(reader, [spark_location(tmp_path / uri.split("/", 3)[3]) for uri in paths], *args, **kwargs)

    monkeypatch.setattr(DataFrameReader, "format", format_)
    monkeypatch.setattr(DataFrameReader, "load", load)
    capsys.readouterr()
    try:
        read, large = whole_and_split_files(HadoopFiles(spark), uris, [path.stat().st_size for path in local])
    finally:
        partitions._s3_client.cache_clear()
    assert asked == [("binaryFile", uris)] and large == []
    assert sorted(row.content for row in read.rows().collect()) == sorted(path.read_bytes() for path in local)
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"note: boto3 cannot read {uris[0]} (Unable to locate credentials): Spark's S3 "
                               "connector reads the objects of s3://capture-test-bucket")


def test_an_object_boto3_cannot_read_sends_its_bucket_to_spark_once_with_its_reason(spark, s3_bucket, capsys):
    s3_bucket.put_object(Bucket="capture-test-bucket", Key="a.jsonl", Body=b"{}\n")
    files = HadoopFiles(spark)
    capsys.readouterr()
    assert not files.read_on_executors("s3://capture-test-bucket/gone.jsonl")
    assert not files.read_on_executors("s3://capture-test-bucket/a.jsonl")  # the bucket's verdict holds for the run
    assert files.read_on_executors("file:/data/a.jsonl")
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "NoSuchKey" in notes[0] and "s3://capture-test-bucket/gone.jsonl" in notes[0]


def test_tasks_hold_consecutive_files_packed_as_spark_packs_a_split(spark, split_files):
    sizes = [30, 50, 10, 90, 20, 20, 60, 5]
    listed = [(f"file:/data/{index:02d}.jsonl", size) for index, size in enumerate(sizes)]
    with split_files(100):
        limit = task_bytes(spark)
        open_cost = _byte_size(spark.conf.get("spark.sql.files.openCostInBytes"))
        tasks = _named_files(spark, listed, limit).rows().rdd.glom().collect()
    # Spark's rule, in file order: a task is closed before a file that would take it past the split's bytes, each
    # file counting its size plus the cost of opening it
    expected: list[list[str]] = []
    held = limit + 1
    for uri, size in listed:
        if held + size > limit:
            expected.append([])
            held = 0
        expected[-1].append(uri)
        held += size + open_cost
    assert [[row.file for row in task] for task in tasks] == expected
    assert all(row.content is None for task in tasks for row in task)
    assert [uri for task in expected for uri in task] == [uri for uri, _ in listed]


def test_a_data_quality_task_holds_its_own_bytes_of_whole_files_and_larger_files_still_go_in_splits(
        tmp_path, spark, split_files):
    assert task_bytes(spark) == 1 << 30  # the default: a split of 128 MiB is a third overhead for a Python task
    capture = write_capture(tmp_path, files=6, per_file=100)
    listed = HadoopFiles(spark).files_under(spark_location(capture))
    size = max(f.size for f in listed)
    with split_files(size):  # every file is read whole; a task of a split's bytes holds one file
        spark.conf.set("spark.sql.files.openCostInBytes", "0")
        one_each, large = whole_and_split_files(HadoopFiles(spark), [f.uri for f in listed], [f.size for f in listed])
        assert large == [] and [len(task) for task in one_each.rows().rdd.glom().collect()] == [1] * 6
        spark.conf.set(data_quality.TASK_BYTES_KEY, str(5 * size // 2))  # two files a task, in file order
        packed, large = whole_and_split_files(HadoopFiles(spark), [f.uri for f in listed], [f.size for f in listed],
                                              task_bytes=task_bytes(spark))
        assert large == [] and [[row.file for row in task] for task in packed.rows().rdd.glom().collect()] == [
            [f.uri for f in listed[low:low + 2]] for low in (0, 2, 4)]
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(size - 1))  # the largest file is cut in splits
        _, large = whole_and_split_files(HadoopFiles(spark), [f.uri for f in listed], [f.size for f in listed],
                                         task_bytes=task_bytes(spark))
        assert large == [f.uri for f in listed if f.size == size]
        spark.conf.set(data_quality.TASK_BYTES_KEY, "lots")
        with pytest.raises(AnalyzerInputError, match="spark.modelMonitor.taskBytes is not a size in bytes: 'lots'"):
            task_bytes(spark)
        spark.conf.set(data_quality.TASK_BYTES_KEY, "0")
        with pytest.raises(AnalyzerInputError, match="spark.modelMonitor.taskBytes is 0: give a task's bytes"):
            task_bytes(spark)


def test_only_the_files_the_executors_cannot_read_go_through_spark(tmp_path, spark):
    capture = write_capture(tmp_path, files=2, per_file=50)
    listed = HadoopFiles(spark).files_under(spark_location(capture))
    named, large = whole_and_split_files(HadoopFiles(spark), [f.uri for f in listed], [f.size for f in listed])
    assert large == [] and [row.content for row in named.rows().collect()] == [None, None]
    # sizes not known (a file named alone, a manifest's object its folder's listing does not show): Spark's
    # binaryFile reader reads the bytes
    read, large = whole_and_split_files(HadoopFiles(spark), [f.uri for f in listed], None)
    assert large == [] and sorted(len(row.content) for row in read.rows().collect()) == sorted(f.size for f in listed)


def _manifest(tmp_path, capture, listed) -> Path:
    manifest = tmp_path / "capture.manifest.json"
    manifest.write_text(json.dumps([{"prefix": spark_location(capture) + "/"},
                                    *(path.relative_to(capture).as_posix() for path in listed)]))
    return manifest


def _two_hour_folders(tmp_path) -> tuple[Path, list[Path]]:
    """A window's capture in two hour folders (objects of the window's records written in the next hour, as
    SageMaker writes them near an hour's end), the next hour's with a subfolder of its own."""
    capture = write_capture(tmp_path, files=5, per_file=300)
    files = sorted(capture.rglob("*.jsonl"))
    later = files[0].parent.parent / "11"
    later.mkdir()
    for path in files[3:]:
        path.rename(later / path.name)
    (later / "sub").mkdir()
    (later / "sub" / "capture-09.jsonl").write_bytes(files[0].read_bytes())
    return capture, sorted(capture.rglob("*.jsonl"))


def test_a_manifest_window_is_sized_by_one_listing_a_folder_and_read_by_the_executors(tmp_path, spark, monkeypatch):
    """The window planner's manifest names objects, not their sizes: each folder they are in is listed once, the
    executors read the objects themselves, and the results are the local engine's on the same manifest."""
    baseline = _baseline(tmp_path)
    capture, files = _two_hour_folders(tmp_path)
    named = [path for path in files if path.name != "capture-01.jsonl"]  # a file of a listed folder left out
    manifest = _manifest(tmp_path, capture, named)
    listings: list[str] = []
    given: list[list[tuple[str, int]]] = []
    real_files_in, real_named_files = HadoopFiles.files_in, data_quality._named_files

    def files_in(self, folder):
        listings.append(folder)
        return real_files_in(self, folder)

    def named_files(spark_, listed, whole_limit):
        given.append(list(listed))
        return real_named_files(spark_, listed, whole_limit)

    monkeypatch.setattr(HadoopFiles, "files_in", files_in)
    monkeypatch.setattr(data_quality, "_named_files", named_files)
    assert _monitor(manifest, baseline, tmp_path / "local") == 0
    assert _monitor(manifest, baseline, tmp_path / "spark", "--engine", "spark") == 0
    # each read of the manifest lists each of its three folders once
    counts = Counter(listings)
    assert sorted(counts) == sorted({spark_location(path.parent) for path in named}) and len(counts) == 3
    assert len(set(counts.values())) == 1
    assert given and all(sorted(call) == sorted((f"file:{path}", path.stat().st_size) for path in named)
                         for call in given)
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert ours["statistics.json"]["dataset"]["item_count"] == local["statistics.json"]["dataset"]["item_count"]
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])
    assert local["constraint_violations.json"] == ours["constraint_violations.json"]


def test_objects_a_folders_listing_does_not_show_keep_their_names_and_an_unknown_size(tmp_path, spark, monkeypatch):
    capture, files = _two_hour_folders(tmp_path)
    profiler = SparkProfiler(HadoopFiles(spark), tmp_path / "staging")
    gone = spark_location(capture) + "/ep/AllTraffic/2024/03/01/12/capture-00.jsonl"
    missing = spark_location(files[0].parent) + "/capture-99.jsonl"
    given = [spark_location(path) for path in files[:2]] + [gone, missing]
    listings: list[str] = []
    real_files_in = HadoopFiles.files_in
    monkeypatch.setattr(HadoopFiles, "files_in", lambda self, folder: listings.append(folder) or real_files_in(self, folder))
    assert profiler.named_files(given) == sorted(
        [RemoteFile(uri=f"file:{path}", size=path.stat().st_size) for path in files[:2]]
        + [RemoteFile(uri=gone, size=0), RemoteFile(uri=missing, size=0)], key=lambda file: file.uri)
    assert sorted(listings) == sorted({uri.rpartition("/")[0] for uri in given})  # a folder with no such object too


def test_a_window_read_by_the_executors_equals_the_one_read_by_spark(tmp_path, spark, monkeypatch):
    """The same manifest, once read by the executors and once by Spark's binaryFile reader (the executors cannot
    read the objects), gives the same results."""
    baseline = _baseline(tmp_path)
    capture, files = _two_hour_folders(tmp_path)
    manifest = _manifest(tmp_path, capture, files)
    assert _monitor(manifest, baseline, tmp_path / "named", "--engine", "spark") == 0
    monkeypatch.setattr(HadoopFiles, "read_on_executors", lambda self, uri: False)
    assert _monitor(manifest, baseline, tmp_path / "read", "--engine", "spark") == 0
    named, read = documents(tmp_path / "named"), documents(tmp_path / "read")
    assert_same_statistics(named["statistics.json"], read["statistics.json"])
    assert named["constraint_violations.json"] == read["constraint_violations.json"]


@pytest.mark.parametrize("block", [1, 200, 1 << 20])
def test_state_rows_come_in_file_order_a_block_of_partitions_at_a_time(spark, block):
    import random

    from model_monitor_analyzer.spark.data_quality import ordered_state_rows

    keys = [(f"file:/data/{file:02d}.jsonl", start) for file in range(6) for start in (0, 1 << 20, 2 << 20)]
    shuffled = keys[:]
    random.Random(block).shuffle(shuffled)  # rows of any file in any partition, as the text reader's splits are
    rows = [(file, start, f"{file}@{start}".encode()) for file, start in shuffled]
    states = spark.createDataFrame(spark.sparkContext.parallelize(rows, 5), "file string, start long, state binary")
    given = [(row.file, row.start, row.state) for row in ordered_state_rows(states, [], block_bytes=block,
                                                                            one_fetch_bytes=0)]
    assert given == [(file, start, f"{file}@{start}".encode()) for file, start in sorted(keys)]


def test_a_plain_capture_file_named_gz_larger_than_a_split_is_read_whole(tmp_path, spark, split_files):
    """Spark's text reader decompresses by the name: a plain file named ``.jsonl.gz`` is read whole instead, as the
    local engine reads it (gunzipped only when its bytes are gzip)."""
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path, files=2, per_file=600)
    for path in sorted(capture.rglob("*.jsonl")):
        path.rename(path.with_name(path.name + ".gz"))
    assert _monitor(capture, baseline, tmp_path / "local") == 0
    with split_files(32 << 10):
        assert _monitor(capture, baseline, tmp_path / "spark", "--engine", "spark") == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])
    assert local["constraint_violations.json"] == ours["constraint_violations.json"]


def test_an_empty_first_csv_file_does_not_hide_the_datasets_header(tmp_path, spark):
    whole = tmp_path / "whole.csv"
    write_dataset(whole, rows=3_000)
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "a-empty.csv").write_bytes(b"")
    (folder / "b.csv").write_bytes(b"\xef\xbb\xbf" + whole.read_bytes())  # with a byte-order mark, as Excel writes
    assert run("baseline", "--dataset", str(folder), "--output", str(tmp_path / "local")) == 0
    assert run("baseline", "--engine", "spark", "--dataset", str(folder), "--output", str(tmp_path / "spark")) == 0
    local, ours = documents(tmp_path / "local"), documents(tmp_path / "spark")
    assert ours["statistics.json"]["dataset"]["item_count"] == 3_000
    assert_same_statistics(local["statistics.json"], ours["statistics.json"])


def test_skipped_capture_files_are_noted_once_each(tmp_path, spark, capsys):
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path, files=1, per_file=300)
    hour = next(path.parent for path in capture.rglob("*.jsonl"))
    (hour / ".hidden.jsonl").write_text("{}\n")
    (hour / "_SUCCESS").write_text("")
    (hour / "notes.txt").write_text("hello\n")
    capsys.readouterr()
    assert _monitor(capture, baseline, tmp_path / "spark", "--engine", "spark") == 0
    notes = [line.split(": ", 1)[1] for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    listed = HadoopFiles(spark).files_under(spark_location(hour))
    uri = {file.uri.rsplit("/", 1)[1]: file.uri for file in listed}
    assert sorted(notes) == sorted([
        f"{uri['.hidden.jsonl']}: skipped, a hidden file",
        f"{uri['_SUCCESS']}: skipped, a job marker file, not data",
        f"{uri['notes.txt']}: skipped, not a JSON Lines file; name it *.jsonl to have it read",
    ])


def test_a_local_folder_is_listed_as_hadoops_local_file_system_lists_it(tmp_path, spark):
    """Local folders are listed by the driver's Python (Hadoop without its native library runs a shell command a
    file): the same URIs and sizes as Hadoop's own listing, odd names, hidden files and a link to a file included."""
    from model_monitor_analyzer.spark.locations import RemoteFile, _local_files_under

    root = tmp_path / "capture tree"
    for relative, data in {"a b/x#1.jsonl": b"1\n", "a b/c%41d/?y.jsonl": b"22\n", ".hidden/z.jsonl": b"",
                           "_SUCCESS": b"", "é漢/w.jsonl.gz": b"4444\n"}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    (root / "link.jsonl").symlink_to(root / "a b" / "x#1.jsonl")

    def hadoop_listing(path, fs):
        found, entries = [], fs.listFiles(path, True)
        while entries.hasNext():
            status = entries.next()
            found.append(RemoteFile(uri=status.getPath().toString(), size=int(status.getLen())))
        return sorted(found, key=lambda file: file.uri)

    files = HadoopFiles(spark)
    uri = spark_location(root)
    assert _local_files_under(uri) == files._call(uri, "list", hadoop_listing)
    assert files.files_under(uri) == _local_files_under(uri) and len(files.files_under(uri)) == 6


def test_a_folders_own_files_are_listed_as_hadoops_listing_without_its_subfolders(tmp_path, spark):
    """``files_in`` (a manifest's folders): the files directly in the folder, as Hadoop's non-recursive listing gives
    them (the listing S3 folders get), without the files of its subfolders; a folder that is not there has none."""
    from model_monitor_analyzer.spark.locations import _local_files_in

    root = tmp_path / "hour 10"
    for relative, data in {"a b#1.jsonl": b"1\n", "c%41d.jsonl": b"22\n", "late/x.jsonl": b"333\n",
                           "_SUCCESS": b""}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    (root / "link.jsonl").symlink_to(root / "late" / "x.jsonl")
    files = HadoopFiles(spark)
    uri = spark_location(root)
    hadoop = files._call(uri, "list", lambda path, fs: files._listing(path, fs, recursive=False))
    assert files.files_in(uri) == _local_files_in(uri) == hadoop
    assert sorted(file.uri.rsplit("/", 1)[1] for file in hadoop) == ["_SUCCESS", "a b#1.jsonl", "c%41d.jsonl",
                                                                     "link.jsonl"]
    assert files.files_in(spark_location(tmp_path / "no such hour")) == []


def _logged_states(batches, log):
    import pyarrow as pa

    for batch in batches:
        with open(log, "a") as handle:
            handle.write("computed\n")
        yield pa.RecordBatch.from_arrays([pa.array([f"file:/data/{batch.column(0)[0].as_py():02d}.jsonl"]),
                                          pa.array([0], pa.int64()), pa.array([b"state"], pa.binary())],
                                         names=["file", "start", "state"])


@pytest.mark.parametrize("block_bytes", [1, 1 << 30])  # a fetch a partition; all at once
def test_each_state_is_computed_once_though_fetched_in_blocks(tmp_path, spark, block_bytes):
    """The fetch reads the states kept on the executors' disks; it does not compute a partition again."""
    from functools import partial

    from model_monitor_analyzer.spark.data_quality import ordered_state_rows

    log = tmp_path / "computed.log"
    log.write_text("")
    numbers = spark.createDataFrame(spark.sparkContext.parallelize([(index,) for index in range(8)], 8), "i long")
    states = numbers.mapInArrow(partial(_logged_states, log=str(log)), "file string, start long, state binary")
    given = [row.file for row in ordered_state_rows(states, [], block_bytes=block_bytes, one_fetch_bytes=0)]
    assert given == [f"file:/data/{index:02d}.jsonl" for index in range(8)]
    assert log.read_text().count("computed") == 8


@pytest.fixture
def s3_server(spark, monkeypatch):
    """A moto S3 server on loopback that the driver and the executors' Python workers both reach through boto3's own
    settings (``AWS_ENDPOINT_URL`` and test keys, given to the workers through the Spark context's environment)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    settings = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    workers = spark.sparkContext.environment
    before = {name: workers.get(name) for name in settings}
    workers.update(settings)  # the workers of the functions defined from now on start with these
    partitions._s3_client.cache_clear()
    try:
        client = boto3.client("s3")
        client.create_bucket(Bucket="capture-test-bucket")
        yield client
    finally:
        for name, value in before.items():
            if value is None:
                workers.pop(name, None)
            else:
                workers[name] = value
        partitions._s3_client.cache_clear()
        server.stop()


def _capture_plan():
    from datetime import UTC, datetime

    from model_monitor_analyzer.io.capture import capture_reading
    from model_monitor_analyzer.io.window import TimeWindow
    from model_monitor_analyzer.spark.partitions import Layout, LineReading

    window = TimeWindow(start=datetime(2024, 3, 1, 10, tzinfo=UTC), end=datetime(2024, 3, 1, 11, tzinfo=UTC))
    return LineReading(layout=Layout.CAPTURE, max_bad_record_ratio=0.5,
                       capture=capture_reading(window=window, use_threads=False))


def test_the_executors_read_s3_objects_through_boto3_into_the_profile_of_the_same_files(tmp_path, spark, s3_server):
    """Objects on S3 (a moto server here) read by the executors' own boto3 give the very profile that the same files
    read from disk give; this machine's Spark has no S3 connector, so only the executors' boto3 can have read them."""
    import pickle

    from model_monitor_analyzer.io.problems import InputProblems

    _, local = _two_hour_folders(tmp_path)
    uris = []
    for path in local:
        key = path.relative_to(tmp_path).as_posix()
        s3_server.put_object(Bucket="capture-test-bucket", Key=key, Body=path.read_bytes())
        uris.append(f"s3://capture-test-bucket/{key}")
    sizes = [path.stat().st_size for path in local]
    plan = _capture_plan()
    profiles, tallies = [], []
    for names in (uris, [f"file:{path}" for path in local]):
        problems = InputProblems(max_bad_record_ratio=plan.max_bad_record_ratio)
        profiles.append(SparkProfiler(HadoopFiles(spark), tmp_path / "staging")._profile_files(
            names, plan, problems, sizes=sizes))
        tallies.append((problems.good, problems.bad))
    from_s3, from_disk = profiles
    assert from_s3.item_count == from_disk.item_count > 0
    assert tallies[0] == tallies[1]
    assert pickle.dumps(from_s3) == pickle.dumps(from_disk)


def test_fetches_take_consecutive_partitions_up_to_the_bytes_of_a_block():
    from model_monitor_analyzer.spark.data_quality import _fetch_blocks

    parts = [4, 0, 3, 1, 2]  # in the order their rows are needed
    sizes = {4: 60, 0: 30, 3: 500, 1: 10, 2: 90}
    blocks = _fetch_blocks(parts, sizes, 100)
    assert [part for block in blocks for part in block] == parts  # every partition once, in order
    assert blocks == [[4, 0], [3], [1, 2]]  # a block holds at most 100 bytes, a larger partition alone
    assert _fetch_blocks(parts, sizes, 1) == [[part] for part in parts]
    assert _fetch_blocks(parts, sizes, 1 << 30) == [parts]


def test_a_whole_capture_tree_given_for_one_window_is_listed_as_the_local_engine_lists_it(tmp_path, spark, capsys):
    from datetime import UTC, datetime

    from model_monitor_analyzer.io.capture import capture_files
    from model_monitor_analyzer.io.window import TimeWindow

    capture = tmp_path / "capture"
    for day, hour in [(1, 8), (1, 9), (1, 10), (1, 11), (1, 12), (2, 10)]:
        folder = capture / "ep" / "AllTraffic" / "2024" / "03" / f"{day:02d}" / f"{hour:02d}"
        folder.mkdir(parents=True)
        (folder / "x.jsonl").write_text("{}\n")
    (capture / "ep" / "loose.jsonl").write_text("{}\n")  # outside the hourly layout: always read
    window = TimeWindow(start=datetime(2024, 3, 1, 10, tzinfo=UTC), end=datetime(2024, 3, 1, 11, tzinfo=UTC))
    profiler = SparkProfiler(HadoopFiles(spark), tmp_path / "staging")
    ours = [file.uri for file in profiler.capture_files(capture, window)]
    assert ours == [f"file:{path}" for path in capture_files(capture, window)]
    assert [uri.rsplit("/", 2)[-2] for uri in ours] == ["09", "10", "11", "ep"]
    assert "3 of 7 capture files not read" in capsys.readouterr().err


def test_a_window_of_many_states_is_fetched_in_at_most_a_set_number_of_fetches(spark, monkeypatch):
    from pyspark import SparkContext

    from model_monitor_analyzer.spark.data_quality import ordered_state_rows

    fetches = []
    real_run_job = SparkContext.runJob
    monkeypatch.setattr(SparkContext, "runJob",
                        lambda self, rdd, function, partitions=None, *rest: fetches.append(list(partitions))
                        or real_run_job(self, rdd, function, partitions, *rest))
    rows = [(f"file:/data/{file:02d}.jsonl", 0, bytes(1_000)) for file in range(12)]
    states = spark.createDataFrame(spark.sparkContext.parallelize(rows, 12), "file string, start long, state binary")
    given = [row.file for row in ordered_state_rows(states, [], block_bytes=1, max_fetches=3, one_fetch_bytes=0)]
    assert given == [file for file, _, _ in rows]
    assert len(fetches) == 3 and sorted(part for fetch in fetches for part in fetch) == list(range(12))
    fetches.clear()
    assert len(list(ordered_state_rows(states, [], block_bytes=1, max_fetches=100, one_fetch_bytes=0))) == 12
    assert len(fetches) == 12  # a partition a fetch: more fetches allowed than partitions
    fetches.clear()
    assert [row.file for row in ordered_state_rows(states, [], block_bytes=1)] == given  # 12 kB: one job
    assert fetches == []  # collected by the JVM, not fetched by partitions
