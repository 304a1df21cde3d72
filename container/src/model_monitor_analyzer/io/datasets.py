"""Baseline datasets (CSV, JSON Lines, Parquet) read as a stream of Arrow record batches.

CSV columns are read as text, as SageMaker's Spark job reads them, so that each value's
data type can be decided on its text (``profile.datatypes``); only an empty field is null.
Header-less CSV columns are named ``_c0, _c1, ...`` like Spark's. A UTF-8 byte-order mark is
dropped; a header with an empty or repeated name is refused (two features would become one).

One bad-record policy: a chunk that Arrow refuses (a row with the wrong number of fields, bytes
that are not UTF-8, a malformed JSON line) is re-read line by line; each bad line is counted in
``InputProblems`` with its ``file:line`` and skipped, and the rest of the chunk and of the file is
kept. The line is the physical line a text editor shows (1-based, header and empty lines included,
a line ending at a line feed): Arrow's own row numbers count records, not lines (``_RecordLines``). Files in a dataset folder that are not data (README.md, images, archives, binary files) are
skipped with a note on stderr.
"""

from __future__ import annotations

import csv
import enum
import functools
import io
import itertools
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.arrow_texts import (
    BLANK_LINE,
    bool_array,
    bool_mask,
    float64_nan_filled,
    line_texts,
    text_array,
    text_scalar,
)
from model_monitor_analyzer.io.jsonlines import (
    holds_words_beyond_json,
    json_text,
    line_bounds,
    loads_as_arrow_reads,
)
from model_monitor_analyzer.io.problems import InputProblems, lines_of_part

CSV_BLOCK_BYTES = 4 << 20  # CSV and JSON Lines files are parsed in whole-line chunks of about this size
PARQUET_BATCH_ROWS = 65_536
UTF8_BOM = b"\xef\xbb\xbf"
HEADER_MAX_BYTES = 1 << 20  # a first row longer than this that still has an open quote never closes it
DATA_SUFFIXES = frozenset((".csv", ".json", ".jsonl", ".ndjson", ".parquet", ".pq"))
# Files a dataset folder often holds beside the data; read as CSV they would be garbage rows.
NOT_DATA_SUFFIXES = frozenset((
    ".md", ".rst", ".html", ".htm", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".py", ".ipynb",
    ".sh", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".xml", ".zip", ".gz", ".bz2", ".xz", ".zst", ".tar",
    ".tgz", ".7z", ".pkl", ".pickle", ".npy", ".npz", ".h5", ".hdf5", ".xlsx", ".xls", ".crc", ".log",
))
SNIFF_BYTES = 8192


class DatasetFormat(enum.Enum):
    """Baseline dataset formats (SageMaker ``dataset_format`` keys ``csv``, ``json``, ``parquet``)."""

    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


def dataset_files(path: Path) -> list[Path]:
    """The data files of ``path``: the file itself, or the data files below the folder.

    Hidden files and folders are left out; so are files that are not data (by their suffix, or
    a NUL byte near their start for files without a data suffix), each with a note on stderr.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise AnalyzerInputError("dataset not found; pass an existing file or folder", path=str(path))
    candidates = sorted(
        p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not candidates:
        raise AnalyzerInputError("the dataset folder holds no files", path=str(path))
    files = []
    for file in candidates:
        reason = _not_data_reason(file)
        if reason is None:
            files.append(file)
        else:
            print(f"note: {file}: skipped, {reason}", file=sys.stderr, flush=True)
    if not files:
        raise AnalyzerInputError(
            "the dataset folder holds no data files (CSV, JSON Lines or Parquet)", path=str(path)
        )
    return files


def _not_data_reason(file: Path) -> str | None:
    """Why ``file`` is not a data file, or None when it may be one."""
    suffix = file.suffix.lower()
    if suffix in DATA_SUFFIXES:
        return None
    if suffix in NOT_DATA_SUFFIXES:
        compressed = " (compressed data is not read: decompress it first)" if suffix in (".gz", ".bz2", ".xz", ".zst") else ""
        return f"not a data file ({suffix}){compressed}"
    if file.name.startswith("_"):  # Spark's and Hadoop's markers: _SUCCESS, _committed_...
        return "a job marker file, not data"
    try:
        with file.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if b"\0" in head:
        return "a binary file, not CSV or JSON Lines"
    return None


def guess_format(path: Path) -> DatasetFormat:
    """Format from the file extension (``.csv``, ``.json``/``.jsonl``, ``.parquet``); CSV otherwise."""
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return DatasetFormat.JSON
    if suffix in (".parquet", ".pq"):
        return DatasetFormat.PARQUET
    return DatasetFormat.CSV


def read_dataset(
    path: Path,
    *,
    dataset_format: DatasetFormat | None = None,
    header: bool = True,
    problems: InputProblems,
) -> Iterator[pa.RecordBatch]:
    """Yield the rows of every file of ``path`` as record batches, in file order."""
    for file in dataset_files(path):
        fmt = dataset_format or guess_format(file)
        if fmt is DatasetFormat.CSV:
            yield from read_csv_file(file, header=header, problems=problems)
        elif fmt is DatasetFormat.JSON:
            yield from read_json_lines_file(file, problems=problems)
        else:
            yield from read_parquet_file(file, problems=problems)


def spark_column_names(count: int) -> list[str]:
    """Spark's names for header-less columns: ``_c0 .. _c{count-1}``."""
    return [f"_c{i}" for i in range(count)]


def allow_csv_values(length: int) -> None:
    """Let Python's CSV module read values of ``length`` characters: its field size limit (128 KiB) refuses
    longer ones, which Arrow reads. The limit only ever grows."""
    if length >= csv.field_size_limit():
        csv.field_size_limit(length + 1)


#: every character ``str.isspace`` calls a blank (as ``utf8_trim_whitespace`` trims them, not only RE2's ``\s``:
#: ``\v``, no-break spaces, ideographic space)
BLANKS = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())


def csv_rows(text: str) -> list[list[str]]:
    """The rows of CSV ``text`` by Python's CSV module, lines ending as Arrow ends them (a line feed, a carriage
    return or both), values of any length."""
    allow_csv_values(len(text))
    return list(csv.reader(io.StringIO(text, newline="")))


def first_csv_row(file: Path, *, names: bool = True) -> tuple[list[str], int] | None:
    """The first non-empty CSV row of ``file`` and the number of lines it ends on (a quoted field may
    hold line breaks), or None for a file without one. A header (``names``) that is not UTF-8 is refused
    here, where it would otherwise become feature names of replacement characters; a first data row
    only counts its fields."""
    with file.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 2 and b"\0" in head[:2]):
            raise AnalyzerInputError("the file is UTF-16 text; save it as UTF-8 (pandas: DataFrame.to_csv(path), "
                                     "whose default encoding is UTF-8)", path=str(file))
        handle.seek(len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0)
        parts: list[bytes] = []
        lines = quotes = size = 0
        for line in handle:
            parts.append(line)
            lines += 1
            quotes += line.count(b'"')
            size += len(line)
            if quotes % 2:  # a quoted field goes on on the next line
                if size > HEADER_MAX_BYTES:
                    raise AnalyzerInputError("the first row opens a quote (\") it never closes", path=str(file), line=1)
                continue
            try:
                text = b"".join(parts).decode("utf-8", errors="strict" if names else "replace")
            except UnicodeDecodeError as error:
                raise AnalyzerInputError(
                    f"line {lines} is not UTF-8 text (byte {error.start + 1}); save the file as UTF-8", path=str(file)
                ) from None
            row = next(iter(csv_rows(text)), [])
            if row:
                return row, lines
            parts, quotes, size = [], 0, 0
    if parts:
        raise AnalyzerInputError("the first row opens a quote (\") it never closes", path=str(file), line=1)
    return None


def header_names(row: list[str], *, path: str) -> list[str]:
    """Feature names from a CSV header row, refusing empty and repeated names (they would merge
    two columns into one feature, or name one after nothing)."""
    names = list(row)  # kept as written, spaces included, as pandas and Spark read them
    empty = [str(i + 1) for i, name in enumerate(names) if not name.strip()]
    if empty:
        hint = " (pandas writes its index so: use DataFrame.to_csv(index=False))" if empty == ["1"] else ""
        raise AnalyzerInputError(
            f"the header has no name for column {', '.join(empty)}{hint}; name every column, or read a file without "
            'a header row as such (--no-header on the command line, dataset_format {"csv": {"header": false}} in a '
            "processing job)",
            path=path,
            line=1,
        )
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    repeated = [name for name, count in seen.items() if count > 1]
    if repeated:
        raise AnalyzerInputError(
            f"the header names {', '.join(repr(n) for n in repeated)} more than once; give every column its own name",
            path=path,
            line=1,
        )
    return names


@dataclass(frozen=True, kw_only=True)
class CsvPart:
    """Bytes ``[start, end)`` of a CSV file, cut after line breaks; ``lines_before`` lines precede them (None: not
    counted; a reader of the part counts its lines from ``start``: ``io.problems.lines_of_part``)."""

    start: int
    end: int
    lines_before: int | None


def count_lines(data: bytes, start: int = 0, end: int | None = None) -> int:
    """The line breaks in ``data[start:end]``, counted by numpy: twice as fast as ``bytes.count``, which does not
    search for one byte with the processor's vector instructions."""
    view = np.frombuffer(data, dtype=np.uint8)[start:end]
    return int(np.count_nonzero(view == 10))


def csv_parts(file: Path, *, parts: int, between_records: bool = False) -> list[CsvPart]:
    """The file in up to ``parts`` byte ranges of about equal size, each cut after a line break (fewer parts
    when the file has too few lines). The lines before a part are not counted (that would read the file's
    first parts in this process before any part is read): its reader counts from the part's start. With
    ``between_records`` (CSV), a cut is moved on past lines with an odd number of quote characters: a
    quoted value holding one line break stays in one part."""
    size = file.stat().st_size
    cuts = [0]
    with file.open("rb") as handle:
        for index in range(1, parts):
            target = size * index // parts
            if target <= cuts[-1]:
                continue
            handle.seek(target)
            handle.readline()
            cut = _after_quoted_values(handle, target) if between_records else handle.tell()
            if cut >= size:
                break
            if cut > cuts[-1]:
                cuts.append(cut)
        cuts.append(size)
    return [CsvPart(start=start, end=end, lines_before=0 if start == 0 else None)
            for start, end in itertools.pairwise(cuts)]


def _after_quoted_values(handle: BinaryIO, target: int) -> int:
    """The first line start from the handle's position (just after the line break that ends the line holding
    ``target``) with no odd number of quote characters on the line before it nor on its own line, within
    ``MAX_VALUE_LINES`` lines."""
    cut = handle.tell()
    handle.seek(max(0, target - (64 << 10)))
    before = handle.read(cut - handle.tell())
    before = before[before.rfind(b"\n", 0, len(before) - 1) + 1:]
    handle.seek(cut)
    for _ in range(MAX_VALUE_LINES):
        line = handle.readline()
        if not line or (before.count(b'"') % 2 == 0 and line.count(b'"') % 2 == 0):
            break
        cut, before = handle.tell(), line
    handle.seek(cut)
    return cut


def whole_line_chunks(handle: BinaryIO, chunk_bytes: int, *, limit: int | None = None) -> Iterator[tuple[int, bytes]]:
    """A file in chunks of about ``chunk_bytes`` cut after a line break, each with the number
    of lines before it (the last chunk may lack the final line break); at most ``limit`` bytes
    from the handle's position."""
    lines_before = 0
    for chunk in line_chunks(handle, chunk_bytes, limit=limit):
        yield lines_before, chunk
        lines_before += count_lines(chunk)


def line_chunks(handle: BinaryIO, chunk_bytes: int, *, limit: int | None = None) -> Iterator[bytes]:
    """``whole_line_chunks`` without the lines before each chunk counted (a reader that finds each line's
    bounds counts them with those, in the same pass)."""
    carry = b""
    left = limit
    while block := handle.read(chunk_bytes if left is None else min(chunk_bytes, left)):
        if left is not None:
            left -= len(block)
        cut = block.rfind(b"\n") + 1
        if not cut:  # no line ends in this block: all of it waits for the next
            carry += block
            continue
        # the carried part and the block's whole lines joined in one copy (a block of whole lines is not copied)
        if carry:
            chunk = b"".join((carry, memoryview(block)[:cut]))
        else:
            chunk = block if cut == len(block) else block[:cut]
        carry = block[cut:]
        yield chunk
    if carry:
        yield carry


class _RecordLines:
    """The physical line (1-based, in the file) of each record Arrow parses from ``data``, a run of whole lines
    without a header that ``lines_before`` lines precede.

    Arrow numbers a bad row by the records before it, not by lines: it leaves out empty lines and counts a record
    whose quoted value holds line breaks once. A record starts on a non-empty line before which the quote
    characters balance (``_without_unclosed_quotes`` has emptied the lines whose quote is never closed); the row's
    own text confirms the line, or is looked for after the last one found should a quote inside an unquoted value
    (``1,x"y``, literal to Arrow) have misled the count."""

    def __init__(self, data: bytes, lines_before: int) -> None:
        self._data = data
        self._lines_before = lines_before
        self._after = 0  # the byte after which the next bad row is looked for

    @functools.cached_property
    def _starts(self) -> np.ndarray:
        return np.concatenate(([0], np.flatnonzero(np.frombuffer(self._data, dtype=np.uint8) == 10) + 1))

    @functools.cached_property
    def _records(self) -> np.ndarray:
        """The 0-based lines that records start on (worked out at the first bad row: most chunks have none)."""
        array = np.frombuffer(self._data, dtype=np.uint8)
        starts = self._starts
        breaks = starts[1:] - 1
        ends = np.concatenate((breaks, [len(self._data)]))
        odd = _quotes_per_line(array, starts) % 2
        balanced = np.concatenate(([0], np.cumsum(odd)[:-1])) % 2 == 0
        lengths = ends - starts
        blank = (lengths == 0) | ((lengths == 1) & (array[np.minimum(starts, max(len(self._data) - 1, 0))] == 13))
        return np.flatnonzero(balanced & ~blank)

    def lines(self, row: pacsv.InvalidRow) -> tuple[int | None, int | None]:
        """The first and last physical line of a bad row (the same unless a quoted value holds line breaks)."""
        text = row.text.encode("utf-8", errors="surrogateescape") if row.text is not None else None
        index = row.number - 1 if row.number is not None else None
        line = int(self._records[index]) if index is not None and 0 <= index < len(self._records) else None
        if text is not None and (line is None or not self._data.startswith(text, int(self._starts[line]))):
            line = self._find(text)
        if line is None:
            return None, None
        self._after = int(self._starts[line]) + 1
        first = self._lines_before + line + 1
        return first, first + (text.count(b"\n") if text is not None else 0)

    def _find(self, text: bytes) -> int | None:
        """The line the row ``text`` begins (or, after a lone carriage return that Arrow ends a row at, lies) on."""
        position, inside = self._after, None
        while (found := self._data.find(text, position)) >= 0:
            if found == 0 or self._data[found - 1] == 10:
                return int(np.searchsorted(self._starts, found, side="right")) - 1
            if inside is None:
                inside = int(np.searchsorted(self._starts, found, side="right")) - 1
            position = found + 1
        return inside


def _csv_options(names: list[str], problems: InputProblems, path_text: str, data: bytes, lines_before: int):
    records = _RecordLines(data, lines_before)

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        first, last = records.lines(row)
        problem = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        if first is not None and last is not None and last > first:
            problem += f" in one record over lines {first} to {last} (a quoted value holds their line breaks)"
        problems.record_bad(path_text, first, problem)
        return "skip"

    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],
    )
    parse = pacsv.ParseOptions(invalid_row_handler=on_invalid_row, newlines_in_values=False)
    return parse, convert


def _parse_csv_chunk(chunk: bytes, names: list[str], parse, convert) -> pa.Table:
    if chunk.startswith(UTF8_BOM):  # Arrow drops one at the start of its input: a value's own stays (the file's is gone)
        chunk = UTF8_BOM + chunk
    reader_options = pacsv.ReadOptions(
        column_names=names,
        block_size=len(chunk) + 1,
        use_threads=False,  # row numbers for bad rows; one core is enough
    )
    return pacsv.read_csv(pa.BufferReader(chunk), read_options=reader_options, parse_options=parse, convert_options=convert)


def read_csv_file(
    file: Path, *, header: bool, problems: InputProblems, part: CsvPart | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream one CSV file (or one ``part`` of it) as text columns; rows with a wrong field
    count or bytes that are not UTF-8 are counted (with their line) and skipped.

    The file is parsed a chunk of whole records at a time: Arrow's own streaming reader reads
    ahead of a slower consumer without bound (peak memory grew with the file's size).
    """
    path_text = str(file)
    try:
        first = first_csv_row(file, names=header)
    except OSError as exc:
        raise AnalyzerInputError(f"cannot read the file ({exc.strerror or exc})", path=path_text) from None
    if first is None:
        return
    first_row, header_lines = first
    names = header_names(first_row, path=path_text) if header else spark_column_names(len(first_row))
    try:
        with file.open("rb") as handle:
            start, limit, counted = (0, None, 0) if part is None else (part.start, part.end - part.start, part.lines_before)
            handle.seek(start)
            skip = header_lines if header and start == 0 else 0
            chunks = whole_line_chunks(handle, CSV_BLOCK_BYTES, limit=limit)
            with lines_of_part(problems, path_text, start, counted) as lines_at_start:
                for lines_in_part, chunk in csv_record_chunks(chunks, width=len(names), skip=skip):
                    yield from csv_chunk_batches(chunk, names=names, skip=skip if lines_in_part == 0 else 0,
                                                 lines_before=lines_at_start + lines_in_part, path_text=path_text,
                                                 problems=problems, file_start=start == 0 and lines_in_part == 0)
    except OSError as exc:
        raise AnalyzerInputError(f"cannot read the file ({exc.strerror or exc})", path=path_text) from None


MAX_VALUE_LINES = 20  # a quoted value may hold line breaks over at most this many lines


def csv_record_chunks(chunks: Iterable[tuple[int, bytes]], *, width: int, skip: int = 0) -> Iterator[tuple[int, bytes]]:
    """Chunks of whole lines (each with the lines before it) cut again so that no quoted value holding line
    breaks is split between two: a chunk whose last quote opens a value over its last ``MAX_VALUE_LINES`` lines
    gives those lines to the next chunk. The first ``skip`` lines (the header) are never cut; ``width``: the
    number of fields of a row."""
    held, held_before = b"", 0
    for lines_before, chunk in chunks:
        if not held:
            held_before = lines_before
        data = held + chunk
        cut = _open_value_start(data, skip if held_before == 0 else 0, width) if b'"' in data else 0
        if cut is None:  # the value may close in the next chunk, and nothing before it can go yet
            held = data
            continue
        if cut == 0:
            yield held_before, data
            held = b""
            continue
        yield held_before, data[:cut]
        held, held_before = data[cut:], held_before + count_lines(data, 0, cut)
    if held:
        yield held_before, held


def _open_value_start(data: bytes, skip: int, width: int) -> int | None:
    """Where a quoted value that ``data``'s next lines may close begins: 0 for none, None when it begins
    on the first line (the whole of ``data`` waits for more)."""
    tail = len(data)
    for _ in range(MAX_VALUE_LINES + 1):
        tail = data.rfind(b"\n", 0, tail - 1) + 1 if tail > 1 else 0
        if tail == 0:
            break
    if not any(line.count(b'"') % 2 for line in data[tail:].split(b"\n")):
        return 0  # no quote in the last lines is left open
    unpaired, starts, last = _unpaired_quote_lines(data, skip, width)
    if not last or len(starts) - 1 - unpaired[-1] > MAX_VALUE_LINES or not data.endswith(b"\n"):
        return 0
    line = unpaired[-1]
    return int(starts[line]) if line else None


def _unpaired_quote_lines(data: bytes, skip: int, width: int) -> tuple[list[int], np.ndarray, bool]:
    """The lines of ``data`` (0-based, from line ``skip`` on) that hold an odd number of quote characters
    and are not one end of a quoted value holding line breaks; the offsets where lines start; and whether the
    last of those lines is the last with an odd number of quotes (a later chunk may close it).

    Two lines with odd quote counts, the second within ``MAX_VALUE_LINES`` lines of the first, are the ends of
    one quoted value when the lines from the first to the second make one row of ``width`` fields; otherwise
    the first is a quote never closed, and the second may begin a value in its turn."""
    array = np.frombuffer(data, dtype=np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(array == 10) + 1))
    per_line = _quotes_per_line(array, starts)
    candidates = [int(i) for i in np.flatnonzero(per_line % 2) if i >= skip]
    unpaired, index = [], 0
    while index < len(candidates):
        first = candidates[index]
        if (index + 1 < len(candidates) and candidates[index + 1] - first <= MAX_VALUE_LINES
                and _one_row(data, starts, first, candidates[index + 1], width)):
            index += 2
        else:
            unpaired.append(first)
            index += 1
    return unpaired, starts, bool(unpaired) and unpaired[-1] == candidates[-1]


def _quotes_per_line(array: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The number of quote characters on each line (``starts``: where lines start in ``array``, the first at 0)."""
    quotes = np.flatnonzero(array == 34)
    return np.diff(np.append(np.searchsorted(quotes, starts), len(quotes)))


def _one_row(data: bytes, starts: np.ndarray, first: int, last: int, width: int) -> bool:
    """Whether lines ``first`` to ``last`` of ``data`` are one CSV row of ``width`` fields (or several, split at a
    lone carriage return), its quoted value closed by a quote that ends the field (strictly: ``,"next`` on a later
    line opens a value, it closes none)."""
    end = int(starts[last + 1]) if last + 1 < len(starts) else len(data)
    text = data[int(starts[first]): end].decode("utf-8", errors="replace")
    allow_csv_values(len(text))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return False
    # several rows when a lone carriage return, which ends a row as Arrow reads it, lies between them
    return len(rows) >= 1 and all(len(row) == width for row in rows)


def csv_chunk_batches(chunk: bytes, *, names: list[str], skip: int, lines_before: int, path_text: str,
                      problems: InputProblems, file_start: bool | None = None) -> Iterator[pa.RecordBatch]:
    """The rows of one chunk of whole CSV records (``lines_before`` lines precede it in ``path_text``; its first
    ``skip`` lines are the header) as text columns ``names``; bad rows are counted with their physical line
    (1-based, the header's lines included, as a text editor numbers them) and skipped.
    Every runner parses CSV so: the local engine a file's chunks, the Spark runner a partition's lines.
    ``file_start``: whether the chunk begins its file (a byte-order mark there is the file's, not a value's);
    default: when no line precedes it."""
    if (lines_before == 0 if file_start is None else file_start) and chunk.startswith(UTF8_BOM):
        chunk = chunk[len(UTF8_BOM):]
    if skip:
        cut = 0
        for _ in range(skip):
            cut = chunk.find(b"\n", cut) + 1
            if cut == 0:
                cut = len(chunk)  # the header's lines are the whole chunk (rows after a lone carriage return too)
                break
        rest = _rows_after_header(chunk[:cut])
        chunk, lines_before = rest + chunk[cut:], lines_before + skip - (1 if rest else 0)
    # Bad rows go to a tally first (a chunk that fails is counted again line by line), then in line order.
    found = InputProblems(max_bad_record_ratio=problems.max_bad_record_ratio)
    if b'"' in chunk:  # a quote never closed on its line would swallow the lines after it
        chunk = _without_unclosed_quotes(chunk, len(names), lines_before, path_text, found)
    tally = InputProblems(max_bad_record_ratio=problems.max_bad_record_ratio)
    parse, convert = _csv_options(names, tally, path_text, chunk, lines_before)
    try:
        if not chunk.isascii():
            chunk.decode("utf-8")  # else Arrow's bad-row handler fails on the text of a row
        if b'"' in chunk and chunk.count(b'"') % 2:
            raise _UnbalancedQuotes
        table = _parse_csv_chunk(chunk, names, parse, convert)
        found.merge(tally)
    except (pa.ArrowInvalid, UnicodeDecodeError, _UnbalancedQuotes):
        table = _csv_chunk_line_by_line(chunk, names, lines_before, path_text, found)
    found.examples.sort(key=lambda problem: problem.line if problem.line is not None else lines_before)
    problems.merge(found)
    for batch in table.to_batches():
        problems.record_good(batch.num_rows)
        yield batch


def _rows_after_header(lines: bytes) -> bytes:
    """What follows the header row on its own lines: rows after a lone carriage return that ends it (a file with
    CR line ends, or mixed ones, as Arrow and pandas read them), else nothing."""
    if b"\r" not in lines.rstrip(b"\r\n"):
        return b""
    text = lines.decode("utf-8", errors="surrogateescape")
    handle = io.StringIO(text, newline="")
    allow_csv_values(len(text))
    try:
        next(csv.reader(handle))
    except (csv.Error, StopIteration):
        return b""
    return text[handle.tell():].encode("utf-8", errors="surrogateescape")


def unclosed_quote(width: int) -> str:
    """The bad-record message of a line whose quote (``"``) no line closes (``_without_unclosed_quotes``)."""
    return (f"a quote (\") is not closed on this line, nor by a line within the next {MAX_VALUE_LINES} into one row of "
            f"{width} fields; this line is skipped and the lines after it are read as rows")


def _without_unclosed_quotes(chunk: bytes, width: int, lines_before: int, path_text: str,
                             problems: InputProblems) -> bytes:
    """``chunk`` with every line holding a quote that is never closed emptied (kept as a line break, so later
    lines keep their numbers) and counted as a bad record. Left in, such a quote would join the following lines
    into one field up to the next stray quote, losing them without a count. A line with an odd number of quote
    characters followed within ``MAX_VALUE_LINES`` lines by another that closes it into a row of ``width`` fields
    is a quoted value holding line breaks, and kept (``_unpaired_quote_lines``)."""
    odd, starts, _ = _unpaired_quote_lines(chunk, 0, width)
    if not odd:
        return chunk
    parts, position = [], 0
    for line in odd:
        start = int(starts[line])
        end = int(starts[line + 1]) - 1 if line + 1 < len(starts) else len(chunk)
        parts.append(chunk[position:start])
        position = end
        problems.record_bad(path_text, lines_before + line + 1, unclosed_quote(width))
    parts.append(chunk[position:])
    return b"".join(parts)


class _UnbalancedQuotes(Exception):
    """A chunk with an odd number of quote characters: a quote that is never closed would make
    Arrow read the rest of the chunk as one field (one bad row, every later line lost)."""


def _csv_chunk_line_by_line(
    chunk: bytes, names: list[str], lines_before: int, path_text: str, problems: InputProblems
) -> pa.Table:
    """A chunk Arrow refused, again: lines that are not UTF-8 are counted and dropped, each run of
    the other lines parsed together (one by one, should Arrow still refuse a run). Lines end at a line
    feed only (a carriage return before it belongs to the line), as they are numbered."""
    runs: list[tuple[int, list[bytes]]] = []  # (lines before the run, its lines)
    for index, line in enumerate(_lines_with_ends(chunk)):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.record_bad(path_text, lines_before + index + 1, f"not UTF-8 text (byte {exc.start + 1} of the line)")
            continue
        if runs and runs[-1][0] + len(runs[-1][1]) == lines_before + index:
            runs[-1][1].append(line)
        else:
            runs.append((lines_before + index, [line]))
    tables = [
        table
        for before, lines in runs
        for table in _parse_csv_lines(lines, names, before, path_text, problems)
    ]
    if not tables:
        return pa.table({name: pa.array([], pa.string()) for name in names})
    return pa.concat_tables(tables)


def _lines_with_ends(data: bytes) -> list[bytes]:
    pieces = data.split(b"\n")
    lines = [piece + b"\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    return lines


def _parse_csv_lines(
    lines: list[bytes], names: list[str], before: int, path_text: str, problems: InputProblems
) -> list[pa.Table]:
    """Consecutive lines (the first preceded by ``before`` lines) as one table, or line by line."""
    joined = b"".join(lines)
    if joined.count(b'"') % 2 == 0:  # else an unclosed quote: line by line, so it costs one line
        tally = InputProblems(max_bad_record_ratio=problems.max_bad_record_ratio)
        parse, convert = _csv_options(names, tally, path_text, joined, before)
        try:
            table = _parse_csv_chunk(joined, names, parse, convert)
        except pa.ArrowInvalid:
            pass
        else:
            problems.merge(tally)
            return [table]
    tables = []
    for offset, line in enumerate(lines):
        tally = InputProblems(max_bad_record_ratio=problems.max_bad_record_ratio)
        parse, convert = _csv_options(names, tally, path_text, line, before + offset)
        try:
            tables.append(_parse_csv_chunk(line, names, parse, convert))
        except pa.ArrowInvalid as exc:
            problems.record_bad(path_text, before + offset + 1, f"unreadable CSV row: {_first_line(exc)}")
            continue
        problems.merge(tally)
    return tables


def read_json_lines_file(file: Path, *, problems: InputProblems) -> Iterator[pa.RecordBatch]:
    """Stream one JSON Lines file (one flat object per line; nested objects become ``a.b`` columns).

    The file is read in chunks of whole lines by Arrow; a chunk Arrow refuses is re-read line by
    line so that each bad line is counted with its number and the others are kept.
    """
    path_text = str(file)
    try:
        with file.open("rb") as handle:
            for lines_before, chunk in whole_line_chunks(handle, CSV_BLOCK_BYTES):
                yield from json_lines_chunk_batches(chunk, lines_before=lines_before, path_text=path_text,
                                                    problems=problems)
    except OSError as exc:
        raise AnalyzerInputError(f"cannot read the file ({exc.strerror or exc})", path=path_text) from None


def json_lines_chunk_batches(chunk: bytes, *, lines_before: int, path_text: str, problems: InputProblems
                            ) -> Iterator[pa.RecordBatch]:
    """The rows of one chunk of whole JSON Lines (``lines_before`` lines precede it in ``path_text``), by Arrow,
    or line by line when Arrow refuses the chunk. Every runner parses JSON Lines datasets so."""
    if lines_before == 0 and chunk.startswith(UTF8_BOM):
        chunk = chunk[len(UTF8_BOM):]
    table = None if holds_words_beyond_json(chunk) else _json_lines_by_arrow(chunk)  # Arrow reads those as numbers
    if table is None:  # refused, or its rows are not one a line (the lines then say how each number is written)
        batch = _json_lines_one_by_one(chunk, lines_before, path_text, problems)
        if batch is not None:
            yield batch
        return
    for batch in table.to_batches(max_chunksize=PARQUET_BATCH_ROWS):
        problems.record_good(batch.num_rows)
        yield batch


def _json_lines_by_arrow(chunk: bytes) -> pa.Table | None:
    """A chunk of JSON Lines as Arrow reads it, flattened, its whole numbers counted as written; None when Arrow
    refuses it or its rows are not one a line."""
    try:
        parsed = pajson.read_json(
            pa.BufferReader(chunk), read_options=pajson.ReadOptions(block_size=len(chunk) + 1, use_threads=False)
        )
        # Arrow 25 can build an invalid list column (a list of a null then a string, e.g.
        # [null, "0"]) that crashes when read: such a chunk takes the line-by-line path too.
        parsed.validate(full=True)
        return _whole_numbers_as_written(_flatten(parsed), chunk)
    except (pa.ArrowException, UnicodeDecodeError):  # also Arrow's own failures on odd types
        return None


_POINT, _NOTHING = text_scalar(".0"), text_scalar("")
# A key holding an escape (``"gr\\u00f6\\u00dfe"``, pandas' ``"a\\/b"``) followed by an integer: such keys are not
# spelled out one by one (each character may be escaped or not, which made patterns of tens of thousands of
# characters for wide files); orjson tells whose key it is. An escape in a value is never followed by a colon.
_ESCAPED_KEY_THEN_INTEGER = r'"[^"\\]*\\.(?:[^"\\]|\\.)*"\s*:\s*-?[0-9]+\s*[,}\]]'


def _re2_literal(text: str) -> str:
    """``text`` as an RE2 pattern that matches it alone."""
    return "".join(char if char.isalnum() or ord(char) >= 0x80 else f"\\x{{{ord(char):x}}}" for char in text)


def _whole_numbers_as_written(table: pa.Table, chunk: bytes) -> pa.Table | None:
    """``table`` with the kinds of its whole numbers as the line-by-line path counts them (``_scalar_text``): a
    number written as an integer (``2``) is Integral and one written with a point or an exponent (``2.0``) is
    Fractional. Arrow types a column holding both as float, every value of it Fractional: the counts would then
    depend on where the file is cut into chunks. Only a float column's whole numbers can be either, and only lines
    where one of those columns' keys (a nested column's by any of its dotted ends) or a key holding an escape is
    followed by an integer are parsed again; a column gets texts only if one of them was written as an integer.
    None when the rows are not the chunk's non-blank lines one for one."""
    floats: dict[int, tuple[pa.Array, np.ndarray, np.ndarray]] = {}  # column, its whole numbers, its missing values
    for index, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            column = table.column(index).combine_chunks()
            values = float64_nan_filled(column.cast(pa.float64()))
            with np.errstate(invalid="ignore"):
                whole = np.isfinite(values) & (values == np.floor(values))
            if whole.any():
                floats[index] = (column, whole, np.isnan(values))  # NaN (JSON writers may write it) is missing too
    if not floats:
        return table
    keys = sorted({".".join(parts[start:]) for index in floats
                   for parts in [table.schema.field(index).name.split(".")] for start in range(len(parts))})
    candidate = '"(?:' + "|".join(map(_re2_literal, keys)) + ')"\\s*:\\s*-?[0-9]+\\s*[,}\\]]'
    if b"\\" in chunk:
        candidate += "|" + _ESCAPED_KEY_THEN_INTEGER
    # first the chunk as one text: in most files no whole number in a float column is written as an integer
    if not pc.match_substring_regex(line_texts(chunk, np.zeros(1, dtype=np.int64), len(chunk)), candidate)[0].as_py():
        return table
    starts, ends = line_bounds(chunk)
    lines = line_texts(chunk, starts, int(ends[-1]))
    filled = ~bool_mask(pc.match_substring_regex(lines, BLANK_LINE))
    if int(filled.sum()) != table.num_rows:  # Arrow's rows are its objects: then one on each non-blank line
        return None
    starts, ends = starts[filled], ends[filled]
    maybe = bool_mask(pc.match_substring_regex(lines, candidate))[filled]
    parsed: dict[int, dict[str, object]] = {}
    for index, (column, whole, missing) in floats.items():
        name = table.schema.field(index).name
        integers: list[int] = []
        texts: list[str] = []
        for row in np.flatnonzero(whole & maybe).tolist():
            if row not in parsed:
                try:
                    value = loads_as_arrow_reads(chunk[starts[row]:ends[row]])
                except orjson.JSONDecodeError:
                    return None
                parsed[row] = dict(_flat_items(value)) if isinstance(value, dict) else {}
            number = parsed[row].get(name)
            if isinstance(number, int) and not isinstance(number, bool):
                integers.append(row)
                texts.append(_scalar_text(number))
        if not integers:
            continue
        text = pc.cast(column, pa.string())
        # the other whole numbers need a point or an exponent to stay Fractional: Arrow writes "10" without one
        # (and "1e+15", "0.00001" where Python writes 1000000000000000.0 and 1e-05: the kinds and numbers agree)
        pointed = whole.copy()
        pointed[integers] = False
        pointed &= ~bool_mask(pc.match_substring(text, "e"))
        if pointed.any():
            pointed_array = bool_array(pointed)
            text = pc.replace_with_mask(text, pointed_array,
                                        pc.binary_join_element_wise(text.filter(pointed_array), _POINT, _NOTHING))
        as_integers = np.zeros(table.num_rows, dtype=bool)
        as_integers[integers] = True
        text = pc.replace_with_mask(text, bool_array(as_integers), text_array(texts))
        if missing.any():  # NaN stays missing, not the text "nan"
            text = pc.if_else(bool_array(missing), pa.nulls(1, pa.string())[0], text)
        table = table.set_column(index, name, text)
    return table


def _json_lines_one_by_one(chunk: bytes, lines_before: int, path_text: str, problems: InputProblems) -> pa.RecordBatch | None:
    rows: list[dict] = []
    # lines end at a line feed, as they are numbered; a carriage return inside one is a blank to JSON, or ends a
    # record as Arrow's reader ends it (``{"a": 1}\r{"a": 2}`` is two)
    for number, line in enumerate(chunk.split(b"\n"), start=lines_before + 1):
        if not line.strip():
            continue
        try:
            values = [loads_as_arrow_reads(line)]
        except orjson.JSONDecodeError as exc:
            values = _records_between_carriage_returns(line)
            if values is None:
                problems.record_bad(path_text, number, f"malformed JSON: {exc.args[0] if exc.args else exc}")
                continue
        if not all(isinstance(value, dict) for value in values):
            problems.record_bad(path_text, number, "expected a JSON object per line")
            continue
        for value in values:
            rows.append({k: _scalar_text(v) for k, v in _flat_items(value)})
            problems.record_good()
    if not rows:
        return None
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    if not names:  # only empty objects: rows without columns
        return pa.table({"": pa.nulls(len(rows), pa.string())}).select([]).to_batches()[0]
    return pa.RecordBatch.from_pydict({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names})


def _records_between_carriage_returns(line: bytes) -> list[object] | None:
    """The JSON values of a line that lone carriage returns cut into several, or None."""
    if b"\r" not in line.rstrip(b"\r"):
        return None
    try:
        return [loads_as_arrow_reads(part) for part in line.split(b"\r") if part.strip()]
    except orjson.JSONDecodeError:
        return None


def _flat_items(value: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, item in value.items():
        if isinstance(item, dict) and item:
            yield from _flat_items(item, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", item


def _scalar_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return None  # NaN (a JSON writer's word for a missing number) is missing, as in a column Arrow reads
    if isinstance(value, (int, float, str)):
        return str(value)
    return json_text(value)


def _empty_objects_as_text(table: pa.Table) -> pa.Table:
    """Objects with no keys (``{"x": {}}``) as the text ``{}``: flattened they would leave no column,
    and their rows would vanish."""
    for index, field in enumerate(table.schema):
        if pa.types.is_struct(field.type) and field.type.num_fields == 0:
            column = table.column(index)
            text = pa.array([None if v is None else "{}" for v in column.to_pylist()], pa.string())
            table = table.set_column(index, field.name, text)
    return table


def _flatten(table: pa.Table) -> pa.Table:
    table = _empty_objects_as_text(table)
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = _empty_objects_as_text(table.flatten())
    columns, names = [], []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type) or pa.types.is_map(field.type):
            column = pa.array([None if v is None else orjson.dumps(v).decode() for v in column.to_pylist()], pa.string())
        columns.append(column)
        names.append(field.name)
    if not columns:
        return table.select([])  # rows of empty objects: no columns, but still rows
    return pa.table(columns, names=names)


def read_parquet_file(file: Path, *, problems: InputProblems) -> Iterator[pa.RecordBatch]:
    """Stream one Parquet file in row batches."""
    import pyarrow.parquet as pq  # its imports (file systems, ssl) take some 40 ms that only Parquet needs

    try:
        parquet = pq.ParquetFile(file)
        noted: set[str] = set()
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            table = parquet_rows(pa.Table.from_batches([batch]), file, noted)
            for flat in table.to_batches():
                problems.record_good(flat.num_rows)
                yield flat
    except (pa.ArrowInvalid, OSError) as exc:
        problems.record_bad(str(file), None, f"unreadable Parquet: {_first_line(exc)}")
        problems.check()


def parquet_rows(table: pa.Table, file: Path, noted: set[str]) -> pa.Table:
    """Rows of a Parquet file as every runner profiles them: nested columns flattened, lists as JSON text, binary
    columns as text (``noted``: the columns already said to hold bytes that are not UTF-8)."""
    return _binary_as_text(_flatten(table), file, noted)


def _binary_as_text(table: pa.Table, file: Path, noted: set[str]) -> pa.Table:
    """Binary columns as text: UTF-8 values as they are, any other bytes with replacement characters
    (one note per column), so that a column of raw bytes is profiled as strings instead of failing."""
    for index, field in enumerate(table.schema):
        if not (pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)):
            continue
        column = table.column(index)
        try:
            text = pc.cast(column, pa.large_string() if pa.types.is_large_binary(field.type) else pa.string())
        except pa.ArrowInvalid:
            text = pa.chunked_array(
                [pa.array([None if v is None else v.decode("utf-8", errors="replace") for v in column.to_pylist()],
                          pa.string())])
            if field.name not in noted:
                noted.add(field.name)
                print(f"note: {file}: column {field.name!r} holds bytes that are not UTF-8 text; they are read with "
                      "replacement characters (\ufffd)", file=sys.stderr, flush=True)
        table = table.set_column(index, field.name, text)
    return table


def csv_text_batch(text: str, *, width: int) -> pa.RecordBatch:
    """Parse header-less CSV text with ``width`` fields per line into text columns ``_c0..``."""
    return csv_bytes_batch(text.encode("utf-8"), width=width)


def csv_bytes_batch(data: bytes, *, width: int) -> pa.RecordBatch:
    """``csv_text_batch`` of UTF-8 bytes."""
    names = spark_column_names(width)
    if data.startswith(UTF8_BOM):  # Arrow drops one at the start of the data: the first row's own stays its value's
        data = UTF8_BOM + data
    table = pacsv.read_csv(
        io.BytesIO(data),
        # One large block on one thread: measured faster than Arrow's threaded parse for
        # these in-memory batches on small (2-core) processing instances.
        read_options=pacsv.ReadOptions(column_names=names, block_size=max(1 << 20, len(data) + 1), use_threads=False),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
        parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
    )
    batches = table.combine_chunks().to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pydict({n: pa.array([], pa.string()) for n in names})


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
