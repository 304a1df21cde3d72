"""The capture layouts users have, written from a generated data set: many files or one, input and output
captured or input only, CSV or JSON input payloads.

A generated data set (``bench.generate``) is one layout: many files of 5,000 records in hourly folders, input
and output captured, CSV payloads. ``ensure_layout`` writes the same records again in another layout (and
caches it under ``bench/data/layouts/``):

* one file: every record in one JSON Lines file (a day copied together, or a slow endpoint's);
* input only: ``endpointOutput`` left out (capture option ``Input``), so the baseline holds the features alone
  (``features_baseline``);
* JSON input: the input payload as a JSON array of the features (``encoding`` JSON, content type
  ``application/json``), numbers as JSON numbers, text as JSON strings, empty fields as ``null``; the output
  stays CSV.

The records are rewritten in bulk with polars (one capture file at a time), not record by record.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import polars as pl

from bench.contenders.capture_lines import FEATURES_ONLY, capture_files, header_names, payload_names
from bench.generate import DATA_ROOT, Dataset

LAYOUTS_ROOT = DATA_ROOT / "layouts"
# Bump when the written bytes change for the same data set, so stale caches are not reused.
LAYOUT_VERSION = 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class Layout:
    """How a capture is laid out: ``one_file`` (else as generated), ``output`` captured, ``json_input``."""

    one_file: bool
    output: bool
    json_input: bool

    @property
    def name(self) -> str:
        return ", ".join((
            "one file" if self.one_file else "many files",
            "input + output" if self.output else "input only",
            "JSON input" if self.json_input else "CSV input",
        ))  # fmt: skip

    @property
    def slug(self) -> str:
        return "-".join((
            "one" if self.one_file else "many",
            "io" if self.output else "input",
            "json" if self.json_input else "csv",
        ))  # fmt: skip

    @property
    def as_generated(self) -> bool:
        return not self.one_file and self.output and not self.json_input


LAYOUTS: tuple[Layout, ...] = tuple(
    Layout(one_file=one_file, output=output, json_input=json_input)
    for one_file in (False, True)
    for output in (True, False)
    for json_input in (False, True)
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LaidOut:
    """A data set's records in one layout: the capture tree, the baseline CSV to match it, how payloads map to
    the baseline's header (``bench.contenders.capture_lines``), and the window that covers every record."""

    layout: Layout
    dataset: Dataset
    capture_dir: Path
    baseline_csv: Path
    payload_layout: str

    @property
    def window(self) -> tuple[str, str]:
        return self.dataset.window

    def capture_bytes(self) -> int:
        return sum(path.stat().st_size for path in capture_files(self.capture_dir))


def ensure_layout(dataset: Dataset, layout: Layout, *, root: Path = LAYOUTS_ROOT) -> LaidOut:
    """``dataset``'s records in ``layout``, written (once) under ``root``."""
    folder = root / f"{dataset.root.name}-v{LAYOUT_VERSION}"
    if layout.output:
        baseline, payload_layout = dataset.baseline_csv, dataset.kind.layout
    else:
        baseline, payload_layout = features_baseline(dataset, folder / "features-baseline.csv"), FEATURES_ONLY
    if layout.as_generated:
        capture = dataset.capture_dir
    else:
        capture = folder / layout.slug
        # The mark of a finished layout sits beside it: inside, a reader of the capture tree would meet it.
        complete = folder / f"{layout.slug}.complete"
        if not complete.exists():
            _write_layout(dataset, layout, capture)
            complete.write_text("")
    return LaidOut(
        layout=layout,
        dataset=dataset,
        capture_dir=capture,
        baseline_csv=baseline,
        payload_layout=payload_layout,
    )


def features_baseline(dataset: Dataset, path: Path) -> Path:
    """The baseline CSV without the model's score (the baseline of an input-only capture), written once at
    ``path``; a data set whose baseline holds the features alone is its own."""
    if dataset.kind.layout == FEATURES_ONLY:
        return dataset.baseline_csv
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Every field read and written as text, so the values keep the bytes the generator wrote.
        frame = pl.read_csv(dataset.baseline_csv, infer_schema=False)
        staging = path.with_name(path.name + ".partial")
        frame.drop(frame.columns[0]).write_csv(staging)
        staging.rename(path)
    return path


def _write_layout(dataset: Dataset, layout: Layout, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    _, input_names = payload_names(dataset.kind.layout, header_names(dataset.baseline_csv))
    sources = capture_files(dataset.capture_dir)
    if layout.one_file:
        single = target / sources[0].relative_to(dataset.capture_dir).parent / "00-00-000-all-records.jsonl"
        single.parent.mkdir(parents=True)
        with single.open("wb") as out:
            for source in sources:
                _reshaped(pl.read_ndjson(source), layout, input_names).write_ndjson(out)
    else:
        for source in sources:
            path = target / source.relative_to(dataset.capture_dir)
            path.parent.mkdir(parents=True, exist_ok=True)
            _reshaped(pl.read_ndjson(source), layout, input_names).write_ndjson(path)


def _reshaped(records: pl.DataFrame, layout: Layout, input_names: list[str]) -> pl.DataFrame:
    """Capture records (as read from a generated file) in ``layout``: the same fields, in the same order."""
    captured = pl.col("captureData")
    endpoint_input = captured.struct.field("endpointInput")
    if layout.json_input:
        endpoint_input = pl.struct(
            pl.lit("application/json").alias("observedContentType"),
            pl.lit("INPUT").alias("mode"),
            pl.lit(
                json_arrays(
                    records["captureData"].struct.field("endpointInput").struct.field("data"), input_names
                )
            ),
            pl.lit("JSON").alias("encoding"),
        )
    fields = [endpoint_input.alias("endpointInput")]
    if layout.output:
        fields.append(captured.struct.field("endpointOutput"))
    return records.with_columns(pl.struct(*fields).alias("captureData"))


def json_arrays(csv_rows: pl.Series, names: list[str]) -> pl.Series:
    """Each CSV row (no header, columns ``names``) as the text of a JSON array of its values: numbers and
    booleans as JSON writes them, text quoted, empty fields ``null``."""
    text = csv_rows.str.strip_chars_end("\n").str.join("\n").item().encode()
    table = pl.read_csv(io.BytesIO(text), has_header=False, new_columns=names, infer_schema_length=None)
    values = []
    for name, dtype in table.schema.items():
        column = pl.col(name)
        if dtype == pl.String:
            if table[name].str.contains(r'["\\\x00-\x1f]').any():
                raise ValueError(f"column {name!r} holds a character that would need JSON escaping")
            column = pl.concat_str(pl.lit('"'), column, pl.lit('"'))
        else:
            column = (
                column.cast(pl.String).str.to_lowercase() if dtype == pl.Boolean else column.cast(pl.String)
            )
        values.append(column.fill_null("null"))
    arrays = table.select(
        pl.concat_str(pl.lit("["), pl.concat_str(values, separator=","), pl.lit("]")).alias("data")
    )
    return arrays["data"]
