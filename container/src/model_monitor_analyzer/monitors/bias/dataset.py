"""A bias dataset read into typed columns (``values``), per the config's ``dataset_type``.

* ``text/csv``: a header row, or the config's ``headers`` (a first row equal to them is skipped);
* ``application/jsonlines``: one object per line (``io.datasets``' reader), rows that are lists
  named by ``headers``, or documents read through the config's ``features`` / ``label`` /
  ``predicted_label`` JMESPaths (``io.json_fields``);
* ``application/json``: one document read through those JMESPaths (``instances[*].features``);
* ``application/x-parquet``: ``io.datasets``' Parquet reader.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import json_fields
from model_monitor_analyzer.io.datasets import (
    DatasetFormat,
    csv_parts,
    dataset_files,
    first_csv_row,
    header_names,
    read_csv_file,
    read_dataset,
)
from model_monitor_analyzer.io.jsonlines import iter_json_lines
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.jobs.parallel import available_cpus
from model_monitor_analyzer.monitors.bias.config import BiasAnalysisConfig
from model_monitor_analyzer.monitors.bias.values import (
    DEFAULT_PREDICTED_LABEL,
    Columns,
    arrow_typed_column,
    text_column,
    typed_column,
)

THREAD_BYTES = 8 << 20  # a CSV file is parsed by one thread per this much of it, up to the available CPUs


def _first_row(batch: pa.RecordBatch) -> list[str | None]:
    return [None if (cell := column[0].as_py()) is None else cell.strip() for column in batch.columns]


def _csv_file_columns(
    file: Path, names: list[str] | None, problems: InputProblems, *, split: bool = True
) -> tuple[list[str], list[pa.RecordBatch]]:
    """One CSV file's batches, and the column names: ``names`` (a first row equal to them is a
    header and skipped) or, when None, the file's header row. ``split``: a large file is parsed in
    byte ranges by threads (``_csv_batches``)."""
    batches = [b for b in _csv_batches(file, header=names is None, problems=problems, split=split) if b.num_rows]
    if names is None:
        # An empty or header-only file: the header is all there is.
        header = batches[0].schema.names if batches else _header_names(file)
        return header, batches
    if batches and batches[0].num_columns != len(names):
        raise width_mismatch(batches[0].num_columns, names, path=str(file))
    if batches and is_header_row(batches[0], names, path=str(file)):
        batches[0] = batches[0].slice(1)
        problems.good -= 1  # the reader counted the file's header row as a record
    return names, batches


def width_mismatch(width: int, names: Sequence[str], *, path: str) -> AnalyzerInputError:
    """The error of a CSV file whose first row has ``width`` fields, not one a column of ``names``."""
    return AnalyzerInputError(
        f"row has {width} fields but there are {len(names)} columns ({', '.join(names)}): "
        'fix the row or the config\'s "headers"',
        path=path,
        line=1,
    )


def is_header_row(batch: pa.RecordBatch, names: Sequence[str], *, path: str) -> bool:
    """Whether the first row of ``batch`` (a CSV file's first) repeats the column ``names``: the file's header, left
    out. A header naming them in another order or case is refused: read as data it would shift every column under
    the wrong name."""
    first = _first_row(batch)
    if first == list(names):
        return True
    if sorted(str(v).strip().lower() for v in first) == sorted(n.strip().lower() for n in names):
        raise AnalyzerInputError(
            f"the first row names the columns ({', '.join(map(str, first))}) in another order or case than the "
            f'config\'s "headers" ({", ".join(names)}): make "headers" list the file\'s columns as the file does, '
            'or leave "headers" out to take the names from the file',
            path=path, line=1)
    return False


def _csv_batches(file: Path, *, header: bool, problems: InputProblems, split: bool) -> list[pa.RecordBatch]:
    """One CSV file's rows as text batches, as ``io.datasets.read_dataset`` reads them; with ``split`` a large
    file in byte ranges (``csv_parts``) parsed by threads side by side (Arrow's parse leaves Python's lock), the
    ranges' batches and bad records taken in file order, so the result is the one-thread read's."""
    threads = min(available_cpus(), file.stat().st_size // THREAD_BYTES) if split else 1
    parts = csv_parts(file, parts=threads, between_records=True) if threads > 1 else []
    if len(parts) < 2:
        return list(read_dataset(file, dataset_format=DatasetFormat.CSV, header=header, problems=problems))
    tallies = [InputProblems(max_bad_record_ratio=problems.max_bad_record_ratio) for _ in parts]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        read = list(pool.map(lambda part, tally: list(read_csv_file(file, header=header, problems=tally, part=part)),
                             parts, tallies))
    for tally in tallies:
        problems.merge(tally)
    return [batch for batches in read for batch in batches]


def _header_names(file: Path) -> list[str]:
    """The header's names, read as every CSV reader of the analyzer reads them."""
    first = first_csv_row(file)
    if first is None:
        raise AnalyzerInputError("the CSV dataset is empty", path=str(file))
    return header_names(first[0], path=str(file))


def read_csv_columns(
    files: Sequence[Path], headers: Sequence[str] | None, *, problems: InputProblems | None = None
) -> Columns:
    """CSV files as typed columns (``text_column``); ``headers`` name header-less files.

    Without ``headers`` the first file's header row names the columns, and a later file's first
    row is a header only when it repeats them. Rows with the wrong number of fields are counted
    in ``problems`` and skipped, up to its tolerated share.
    """
    problems = problems if problems is not None else InputProblems()
    names: list[str] | None = list(headers) if headers else None
    # One file: in byte ranges by threads. Several: the first (whose header may name the columns), then the
    # others side by side, one a thread, their batches and bad records taken in file order.
    file_names, parts = _csv_file_columns(files[0], names, problems, split=len(files) == 1)
    if names is None:
        names = [n.strip() for n in file_names]
        if len(set(names)) != len(names):
            raise AnalyzerInputError(f"duplicate column names in {', '.join(names)}", path=str(files[0]))
    if len(files) > 1:
        tallies = [InputProblems(max_bad_record_ratio=problems.max_bad_record_ratio) for _ in files[1:]]
        with ThreadPoolExecutor(max_workers=available_cpus()) as pool:
            read = list(pool.map(lambda file, tally: _csv_file_columns(file, names, tally, split=False)[1],
                                 files[1:], tallies))
        for tally, batches in zip(tallies, read, strict=True):
            problems.merge(tally)
            parts.extend(batches)
    problems.check()
    assert names is not None
    return csv_text_columns(names, parts, path=str(files[0]))


def csv_text_columns(names: Sequence[str], parts: Sequence[pa.RecordBatch], *, path: str) -> Columns:
    """The text batches of CSV files, read in order, as typed columns named ``names`` (``text_column`` of each
    column whole); ``path``: the first file, named by the error of a name given twice."""
    if len(set(names)) != len(names):
        raise AnalyzerInputError(f"duplicate column names in {', '.join(names)}", path=path)
    texts = [pa.chunked_array([part.column(i) for part in parts], type=pa.string()) for i in range(len(names))]
    if len(texts) > 1 and sum(t.nbytes for t in texts) > THREAD_BYTES:
        with ThreadPoolExecutor(max_workers=available_cpus()) as pool:  # Arrow's casts leave Python's lock
            return dict(zip(names, pool.map(text_column, texts), strict=True))
    return {name: text_column(column) for name, column in zip(names, texts, strict=True)}


def _columns_from_paths(
    documents: Sequence[object], config: BiasAnalysisConfig, *, many_per_document: bool, path: str
) -> Columns:
    """Rows of features (a list per row) plus label / predicted label found by the config's JMESPaths."""
    assert config.features is not None
    features: list[list[object]] = []
    counts: list[int] = []
    for document in documents:
        rows = json_fields.feature_rows([document], config.features, many_per_document=many_per_document, path=path)
        features.extend(rows)
        counts.append(len(rows))
    label_path = config.label if isinstance(config.label, str) else None
    predicted_path = config.predicted_label if isinstance(config.predicted_label, str) else None
    labels, predicted = (
        json_fields.values_per_row(documents, expression, many_per_document=many_per_document, counts=counts, path=path)
        if expression is not None else []
        for expression in (label_path, predicted_path)
    )
    width = len(features[0]) if features else 0
    if any(len(row) != width for row in features):
        raise AnalyzerInputError("rows have different numbers of features", path=path)
    headers = list(config.headers or [])
    feature_names = headers[:width] if len(headers) >= width else [f"feature_{i}" for i in range(width)]
    columns: Columns = {
        name: typed_column([row[i] for row in features]) for i, name in enumerate(feature_names)
    }
    if label_path is not None:
        label_name = headers[width] if len(headers) > width else "label"
        columns[label_name] = typed_column(labels)
    if predicted_path is not None:
        predicted_name = headers[width + 1] if len(headers) > width + 1 else DEFAULT_PREDICTED_LABEL
        columns[predicted_name] = typed_column(predicted)
    return columns


def table_columns(batches: Sequence[pa.RecordBatch], names: Sequence[str] | None, path: str) -> Columns:
    """Batches of a table reader as typed columns, all of them or ``names`` (a name no row has is all missing).

    Batches of different chunks or files may differ: a column only some rows have is missing in
    the others, and one read as integers in a chunk and as floats in another is read as floats.
    Columns whose types cannot be unified (numbers in one file, text in another) are typed from
    their values (``typed_column``).
    """
    tables = [pa.Table.from_batches([batch]) for batch in batches if batch.num_columns]
    if not tables:
        raise AnalyzerInputError("the dataset has no rows", path=path)
    try:
        table = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _columns_by_values(tables, names)
    chosen = list(names) if names else table.column_names
    return {
        name: arrow_typed_column(table.column(name)) if name in table.column_names
        else np.full(table.num_rows, None, dtype=object)
        for name in chosen
    }


def _columns_by_values(tables: Sequence[pa.Table], names: Sequence[str] | None) -> Columns:
    """Tables whose column types differ, typed column by column from their values."""
    chosen = list(names) if names else list(dict.fromkeys(name for table in tables for name in table.column_names))
    return {
        name: typed_column([value for table in tables for value in (
            table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows)])
        for name in chosen
    }


def _first_value_is_a_list(files: Sequence[Path]) -> bool:
    """Whether a JSON Lines dataset's rows are lists (named by the config's ``headers``), not objects."""
    for file in files:
        with file.open("rb") as handle:
            for line in handle:
                if line.strip():
                    return line_is_a_list(line)
    return False


def line_is_a_list(line: bytes) -> bool:
    """Whether a JSON Lines line (not blank) holds a list, not an object."""
    return line.lstrip().lstrip(b"\xef\xbb\xbf")[:1] == b"["


def _json_lines(files: Sequence[Path]) -> list[object]:
    return [document for file in files for _, document in iter_json_lines(file, what="line")]


def _list_rows(documents: Sequence[object], headers: Sequence[str] | None, path: str) -> Columns:
    if not headers:
        raise AnalyzerInputError('JSON Lines rows are lists: give their column names in "headers"', path=path)
    if not all(isinstance(d, list) for d in documents):
        raise AnalyzerInputError('JSON Lines rows must be objects, or lists with "headers"', path=path)
    if any(len(d) != len(headers) for d in documents):  # type: ignore[arg-type]
        raise AnalyzerInputError('a JSON Lines row does not have one value per "headers" entry', path=path)
    return {name: typed_column([d[i] for d in documents]) for i, name in enumerate(headers)}  # type: ignore[index]


def json_needs_features(path: str) -> AnalyzerInputError:
    """The error of an ``application/json`` dataset without the config's ``features``."""
    return AnalyzerInputError(
        'an application/json dataset needs "features" (and a JMESPath "label"), e.g. "instances[*].features"', path=path)


PEEK_BYTES = 1 << 16  # how much of a CSV dataset ``plain_number_csv`` looks at


def plain_number_csv(path: Path, dataset_type: str) -> bool:
    """Whether a CSV dataset (file, or the first file below a folder) holds plain numbers in its first rows (Arrow's
    CSV reader types each of their columns as integers, floats or nothing), so that typing its columns needs no
    pandas (``values.text_column``). Only a hint for what to import ahead: a wrong guess costs time, never a value."""
    if dataset_type != "text/csv":
        return False
    try:
        if path.is_dir():
            path = min((p for p in path.rglob("*") if p.is_file()
                        and not any(part.startswith(".") for part in p.relative_to(path).parts)), default=path)
        with path.open("rb") as stream:
            start = stream.read(PEEK_BYTES)
        rows = pacsv.read_csv(pa.BufferReader(start[: start.rfind(b"\n") + 1]))
    except (OSError, pa.ArrowException):
        return False
    return rows.num_rows > 0 and all(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)
                                     for kind in rows.schema.types)


def read_bias_columns(
    path: Path,
    config: BiasAnalysisConfig,
    *,
    dataset_type: str | None = None,
    problems: InputProblems | None = None,
) -> Columns:
    """The dataset at ``path`` (file or folder) as typed columns, per the config's ``dataset_type``.

    CSV, JSON Lines objects and Parquet are read by ``io.datasets``' readers as data quality reads
    them (bad records counted in ``problems`` and skipped up to its tolerated share; nested
    objects become ``a.b`` columns). JSON Lines whose rows are lists named by ``headers``, and
    JSON read through the config's JMESPaths (``io.json_fields``), are read document by document.
    """
    problems = problems if problems is not None else InputProblems()
    files = dataset_files(path)
    kind = dataset_type or config.dataset_type
    if kind == "text/csv":
        return read_csv_columns(files, config.headers, problems=problems)
    if kind == "application/jsonlines":
        if config.features is not None:
            return _columns_from_paths(_json_lines(files), config, many_per_document=False, path=str(path))
        if _first_value_is_a_list(files):
            return _list_rows(_json_lines(files), config.headers, str(path))
        batches = [b for file in files for b in read_dataset(file, dataset_format=DatasetFormat.JSON, problems=problems)]
        problems.check()
        return table_columns(batches, config.headers, str(path))
    if kind == "application/x-parquet":
        batches = list(read_dataset(path, dataset_format=DatasetFormat.PARQUET, problems=problems))
        problems.check()
        return table_columns(batches, None, str(path))
    if kind == "application/json":
        if config.features is None:
            raise json_needs_features(str(path))
        documents = []
        for file in files:
            try:
                documents.append(json.loads(file.read_text(encoding="utf-8")))
            except json.JSONDecodeError as exc:
                raise AnalyzerInputError(f"not a JSON document: {exc}", path=str(file)) from exc
        return _columns_from_paths(documents, config, many_per_document=True, path=str(path))
    raise AnalyzerInputError(f"dataset type {kind!r} is not supported", path=str(path))
