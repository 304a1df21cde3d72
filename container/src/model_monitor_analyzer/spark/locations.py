"""Inputs and outputs named by URI (``s3://``, ``file:``, ``hdfs://``), through Hadoop's FileSystem API on the driver.

The requests hold ``Path`` values, and a ``Path`` folds a URI's double slash (``s3://b/k`` becomes
``s3:/b/k``); ``location_of`` gives the URI back. A local path is used as it is: the local run reads and
writes it, and Spark reads it as ``file:`` (the executors' own disks: a cluster needs URIs).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.manifest import local_file_path

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(/*)(.*)$")  # two letters at least: not a drive letter
READ_LIMIT = 256 << 20  # a baseline document read on the driver is at most this large
#: a file's name and length in Hadoop's ``FileStatus.toString`` (``LocatedFileStatus{path=...; isDirectory=false;
#: length=...; ...}``; S3A's status adds its own fields after these)
_FILE_STATUS = re.compile(r"FileStatus\{path=(.*?); isDirectory=false; length=(\d+); ", re.DOTALL)


class RemoteLocation(PurePosixPath):
    """A URI where the run wrote a file, shown as the URI (``wrote s3://...``), not as a folded path."""

    def __new__(cls, uri: str) -> RemoteLocation:
        location = super().__new__(cls, uri)
        location.uri = uri
        return location

    def __str__(self) -> str:
        return self.uri


def remote_uri(path: Path | str) -> str | None:
    """The URI that ``path`` stands for, or None for a local path."""
    text = str(path)
    match = _SCHEME.match(text)
    if match is None:
        return None
    scheme, slashes, rest = match.groups()
    if scheme.lower() == "file":
        return f"file:///{rest}" if slashes else text
    return f"{scheme}://{rest}" if len(slashes) <= 2 else text


def spark_location(path: Path | str) -> str:
    """What Spark reads for ``path``: its URI, or a local path as a ``file:`` URI spelt plainly, as Hadoop's ``Path``
    takes it (it does not decode ``%20``: ``Path.as_uri()`` would name another file when a name has a space)."""
    return remote_uri(path) or "file://" + Path(path).absolute().as_posix()


def joined(uri: str, name: str) -> str:
    """``name`` inside the folder ``uri``."""
    return uri.rstrip("/") + "/" + name


@dataclass(frozen=True, kw_only=True)
class RemoteFile:
    """One file listed under a URI: its location and size in bytes."""

    uri: str
    size: int


class HadoopFiles:
    """Hadoop's FileSystem API through the Spark driver's JVM (the S3 connector, credentials and all)."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._jvm = spark._jvm
        self._conf = spark._jsc.hadoopConfiguration()
        self._boto3_buckets: dict[str, bool] = {}  # whether boto3 reads a bucket's objects here (``read_on_executors``)

    def _path(self, uri: str):
        path = self._jvm.org.apache.hadoop.fs.Path(uri)
        return path, path.getFileSystem(self._conf)

    def _call(self, uri: str, what: str, action):
        try:
            return action(*self._path(uri))
        except AnalyzerInputError:
            raise
        except Exception as exc:  # py4j's Java exceptions: not found, access denied, no such bucket
            raise AnalyzerInputError(f"cannot {what} ({_java_message(exc)})", path=uri) from None

    def exists(self, uri: str) -> bool:
        """Whether something is at ``uri``."""
        return bool(self._call(uri, "look at this location", lambda path, fs: fs.exists(path)))

    def is_folder(self, uri: str) -> bool:
        """Whether ``uri`` is a folder (a prefix with objects under it, on S3)."""
        return bool(self._call(uri, "look at this location",
                               lambda path, fs: fs.exists(path) and fs.getFileStatus(path).isDirectory()))

    def _listing(self, path, fs, *, recursive: bool) -> list[RemoteFile]:
        """The files Hadoop lists at ``path`` (below it too when ``recursive``), in path order.

        The listing is gathered in the JVM and comes back as one text (Hadoop's ``RemoteIterators.toList`` and the
        statuses' ``toString``): asked file by file, each status costs py4j round trips, about 5 ms a file (10 s
        for a day's 2,000 capture objects). When that text does not parse into as many files as were listed (a
        name holding the separators themselves), or the JVM lacks the helper, the files are asked one by one."""
        try:
            statuses = self._jvm.org.apache.hadoop.util.functional.RemoteIterators.toList(fs.listFiles(path, recursive))
            parsed = _FILE_STATUS.findall(statuses.toString())
            if len(parsed) == statuses.size():
                return sorted((RemoteFile(uri=name, size=int(size)) for name, size in parsed), key=lambda file: file.uri)
        except Exception:  # py4j's: no such class in an older Hadoop
            pass
        found = []
        entries = fs.listFiles(path, recursive)
        while entries.hasNext():
            status = entries.next()
            found.append(RemoteFile(uri=status.getPath().toString(), size=int(status.getLen())))
        return sorted(found, key=lambda file: file.uri)

    def files_under(self, uri: str) -> list[RemoteFile]:
        """Every file at or below ``uri``, in path order."""
        if not self.exists(uri):
            raise AnalyzerInputError("location does not exist", path=uri)
        if uri.partition(":")[0].lower() == "file":
            return _local_files_under(uri)
        return self._call(uri, "list this location", lambda path, fs: self._listing(path, fs, recursive=True))

    def files_in(self, folder: str) -> list[RemoteFile]:
        """The files directly in ``folder`` (not in its subfolders), in path order, from one listing (on S3, a LIST of
        the prefix with a delimiter: a page a thousand objects); none when there is no such folder or it cannot be
        listed (the caller then knows no size, as before)."""
        if folder.partition(":")[0].lower() == "file":
            return _local_files_in(folder)
        try:
            return self._call(folder, "list this folder", lambda path, fs: self._listing(path, fs, recursive=False))
        except AnalyzerInputError:
            return []

    def head(self, uri: str, size: int) -> bytes:
        """The first ``size`` bytes of the file at ``uri`` (fewer when it is shorter)."""
        def read(path, fs):
            stream = fs.open(path)
            try:
                return bytes(stream.readNBytes(size))
            finally:
                stream.close()

        return self._call(uri, "read this file", read)

    def tail(self, uri: str, size: int, *, before: int = 0) -> bytes:
        """``size`` bytes of the file at ``uri`` that end ``before`` bytes before its end (fewer at its start)."""
        def read(path, fs):
            length = int(fs.getFileStatus(path).getLen())
            start = max(0, length - before - size)
            stream = fs.open(path)
            try:
                stream.seek(start)
                return bytes(stream.readNBytes(max(0, min(size, length - before - start))))
            finally:
                stream.close()

        return self._call(uri, "read this file", read)

    def read(self, uri: str) -> bytes:
        """The whole file at ``uri`` (a baseline document: at most ``READ_LIMIT`` bytes)."""
        if not self.exists(uri):
            raise AnalyzerInputError("file not found", path=uri)
        if self.is_folder(uri):
            raise AnalyzerInputError("expected a file, found a folder", path=uri)
        data = self.head(uri, READ_LIMIT + 1)
        if len(data) > READ_LIMIT:
            raise AnalyzerInputError(f"larger than {READ_LIMIT >> 20} MB: not a baseline document", path=uri)
        return data

    def download(self, uri: str, folder: Path) -> Path:
        """A local copy of the file at ``uri`` in ``folder`` (under the file's own name, for messages)."""
        target = folder / (uri.rstrip("/").rsplit("/", 1)[-1] or "file")
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.read(uri))
        return target

    def delete(self, uri: str) -> None:
        """Remove the file at ``uri`` (nothing when there is none)."""
        self._call(uri, "remove an earlier run's file", lambda path, fs: fs.delete(path, False))

    def read_on_executors(self, uri: str) -> bool:
        """Whether an executor reads the file at ``uri`` itself (``partitions.read_whole_file``) as Spark would: a
        ``file:`` path, or an S3 object when boto3 is installed (the driver's environment standing for the
        executors': the same image and job role), Hadoop's configuration names no S3 endpoint or credentials of its
        own (boto3 then finds the same credentials and endpoint as Spark's connector: the instance's or job's role),
        and boto3 reads the bucket's first object asked about here (``partitions.s3_read_problem``, once a bucket a
        run). When it cannot (no credentials, access denied), one note says so and Spark's connector reads the
        bucket's objects, as it did before executors read them."""
        from model_monitor_analyzer.spark.partitions import FILE_SCHEMES, S3_SCHEMES

        scheme = uri.partition(":")[0].lower()
        if scheme in FILE_SCHEMES:
            return True
        if scheme not in S3_SCHEMES or importlib.util.find_spec("boto3") is None:  # the Processing image has none
            return False
        own = ("endpoint", "access.key", "secret.key", "session.token")  # its credentials providers are defaults
        if any(self._conf.get(f"fs.{name}.{key}") for name in sorted(S3_SCHEMES) for key in own):
            return False
        return self._boto3_reads(uri)

    def _boto3_reads(self, uri: str) -> bool:
        from model_monitor_analyzer.spark.partitions import s3_bucket_and_key, s3_read_problem

        bucket = s3_bucket_and_key(uri)[0]
        if bucket not in self._boto3_buckets:
            problem = s3_read_problem(uri)
            if problem is not None:
                print(f"note: boto3 cannot read {uri} ({problem}): Spark's S3 connector reads the objects of "
                      f"s3://{bucket} (slower: every byte goes through the JVM)", file=sys.stderr, flush=True)
            self._boto3_buckets[bucket] = problem is None
        return self._boto3_buckets[bucket]

    def upload(self, local: Path, uri: str) -> None:
        """Copy the local file to ``uri``, replacing what is there."""
        source = self._jvm.org.apache.hadoop.fs.Path(local.absolute().as_uri())
        self._call(uri, "write this file", lambda path, fs: fs.copyFromLocalFile(False, True, source, path))


def _local_files_under(uri: str) -> list[RemoteFile]:
    """``HadoopFiles.files_under`` of a ``file:`` URI, listed by this process as Hadoop's local file system lists it
    (``file:/x`` URIs, names spelt plainly, links to files followed): Hadoop without its native library runs a
    shell command a file to read each one's permissions, about 5 ms a file."""
    root = local_file_path(uri)
    if root.is_file():
        return [RemoteFile(uri=f"file:{root}", size=root.stat().st_size)]
    found = []
    try:
        for folder, _, names in os.walk(root, onerror=_raise):
            for name in names:
                path = Path(folder) / name
                try:
                    found.append(RemoteFile(uri=f"file:{path}", size=path.stat().st_size))
                except FileNotFoundError:
                    continue  # a link to nothing, or gone since it was listed
    except OSError as exc:
        raise AnalyzerInputError(f"cannot list this location ({exc.strerror or exc})", path=uri) from None
    return sorted(found, key=lambda file: file.uri)


def _local_files_in(uri: str) -> list[RemoteFile]:
    """``HadoopFiles.files_in`` of a ``file:`` folder, listed by this process (``_local_files_under``'s spelling)."""
    folder = local_file_path(uri)
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    if entry.is_file():
                        found.append(RemoteFile(uri=f"file:{folder / entry.name}", size=entry.stat().st_size))
                except FileNotFoundError:
                    continue  # a link to nothing, or gone since it was listed
    except OSError:
        return []
    return sorted(found, key=lambda file: file.uri)


def _raise(error: OSError) -> None:
    raise error


def _java_message(exc: Exception) -> str:
    java = getattr(exc, "java_exception", None)
    text = str(java.toString()) if java is not None else str(exc)
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__


def remove_folder(folder: Path) -> None:
    """Remove a staging folder of the run."""
    shutil.rmtree(folder, ignore_errors=True)


def require_local_inputs(*paths: Path | str | None) -> None:
    """Refuse a local input path that does not exist before Spark starts (its start-up takes seconds and prints
    its own lines before the error); URIs are checked by the run, through Spark's file systems."""
    for path in paths:
        if path is not None and remote_uri(path) is None and not Path(path).exists():
            raise AnalyzerInputError("not found: pass an existing file or folder (or an s3:// URI)", path=str(path))
