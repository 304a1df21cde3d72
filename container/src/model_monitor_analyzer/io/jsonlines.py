"""JSON Lines files: where they are under a folder, how they are opened, and their records with file
and line.

What is read below a folder: every regular file named ``*.jsonl``, ``*.json`` or ``*.ndjson`` (each
optionally ``.gz``), or with no suffix at all (SageMaker's own files always have one; a copy made by
hand or a tool may not). Gzip is recognised by its first bytes, whatever the name says, and a UTF-8
byte-order mark at the start of a file is dropped. Everything else is skipped with one ``note:``
line per file saying why (another suffix, a job marker, a hidden file, a link to nothing, a named
pipe or another special file, which could block a reader forever); a capture folder's data files under
``input/`` or ``output/`` get one note for them all (a transform job's folder: ``--capture-format batch``
reads it), and a label file of another format is told what labels are. A file that cannot be opened or
decompressed stops the run with its name: its records cannot be counted, so they could not be
reported as lost.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pajson

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.problems import InputProblems

SUFFIXES = (".jsonl", ".json", ".ndjson")
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_SPECIAL = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"))
_noted: set[tuple[str, str]] = set()  # each skipped file is said once per process, however often it is listed


def _note(path: Path, reason: str) -> None:
    key = (str(path), reason)
    if key not in _noted:
        _noted.add(key)
        print(f"note: {path}: skipped, {reason}", file=sys.stderr, flush=True)


def _skip_reason(path: Path, relative: Path) -> str | None:
    """Why the entry at ``path`` is not a JSON Lines file to read, or None when it is one."""
    if any(part.startswith(".") for part in relative.parts):
        return "a hidden file"
    try:
        mode = os.stat(path).st_mode  # follows links: a link to a file is read
    except FileNotFoundError:
        return "a link to nothing (its target does not exist)"
    except OSError as error:
        raise AnalyzerInputError(f"cannot look at this file ({error.strerror or error})", path=str(path)) from None
    if stat.S_ISDIR(mode):
        if path.is_symlink():  # the walk does not follow links to folders (a loop would never end)
            return "a link to a folder, not followed: give the folder itself"
        return ""  # folders are walked, not read
    for test, kind in _SPECIAL:
        if test(mode):
            return f"{kind}, not a file"
    name = path.name.lower()
    if name.startswith("_"):  # Spark's and Hadoop's markers: _SUCCESS, _committed_...
        return "a job marker file, not data"
    base = name[:-3] if name.endswith(".gz") else name
    document = analyzer_document(path)
    if document is not None:
        return (f"{document}: point the input at the data, such as an endpoint's data-capture folder, not at a "
                "baseline's or a monitor's output")
    if "." not in base or base.endswith(SUFFIXES):
        return None
    return f"not a JSON Lines file ({Path(base).suffix}); {_RENAME}"


#: the documents a baseline or a monitor writes (and a bias job reads): JSON written over several lines
_DOCUMENTS = frozenset(("statistics.json", "constraints.json", "constraint_violations.json", "analysis.json",
                        "analysis_config.json"))


def analyzer_document(path: Path, head: bytes | None = None) -> str | None:
    """What the file at ``path`` is when it is one of the analyzer's own documents (a baseline's or a monitor's
    output, written over many lines: its first line a lone ``{``), said for a message; None for anything else.
    ``head``: the file's first bytes, when the caller read them already."""
    name = path.name.lower()
    if name not in _DOCUMENTS:
        return None
    if head is None:
        try:
            with path.open("rb") as handle:
                head = handle.read(64)
        except OSError:
            return None  # the reader says what is wrong
    if head.removeprefix(UTF8_BOM).lstrip(b" \t").startswith((b"{\n", b"{\r\n")):
        return f"the analyzer's own {name} (a document, not JSON Lines records)"
    return None


_RENAME = "name it *.jsonl to have it read"
_BATCH_FOLDERS = ("input", "output")  # a batch transform job's data files (``io.batch``)


def _other_data_reason(relative: Path, what: str, reason: str, batch_like: list[Path]) -> str | None:
    """The note of a file skipped for its suffix, said for what the folder holds: a capture folder's transform
    data files are gathered in ``batch_like`` (one note for them all), a label file is not told to be renamed."""
    if what == "capture" and len(relative.parts) > 1 and relative.parts[0] in _BATCH_FOLDERS:
        batch_like.append(relative)
        return None
    if what == "ground-truth":
        return (reason.removesuffix(_RENAME).replace("not a JSON Lines file", "not ground-truth records")
                + 'labels are JSON Lines of ground-truth records keyed by eventId (README "Ground truth"): '
                "put-ground-truth --file sends a CSV of inference_id,label as such records")
    return reason


def json_lines_files(root: Path, *, what: str = "data") -> list[Path]:
    """``root`` itself, or every JSON Lines file under it (see the module's text), in path order."""
    try:
        root_mode = os.stat(root).st_mode
    except FileNotFoundError:
        raise AnalyzerInputError(f"{what} location does not exist", path=str(root)) from None
    except OSError as error:
        raise AnalyzerInputError(f"cannot look at the {what} location ({error.strerror or error})",
                                 path=str(root)) from None
    if stat.S_ISREG(root_mode):
        return [root]
    if not stat.S_ISDIR(root_mode):
        raise AnalyzerInputError(f"the {what} location is neither a file nor a folder", path=str(root))
    files = []
    try:
        entries = sorted(root.rglob("*"))
    except OSError as error:
        raise AnalyzerInputError(f"cannot list the {what} folder ({error.strerror or error})", path=str(root)) from None
    batch_like: list[Path] = []
    for path in entries:
        relative = path.relative_to(root)
        reason = _skip_reason(path, relative)
        if reason is None:
            files.append(path)
        elif reason.endswith(_RENAME):
            shown = _other_data_reason(relative, what, reason, batch_like)
            if shown is not None:
                _note(path, shown)
        elif reason:
            _note(path, reason)
    if batch_like and (str(root), "batch") not in _noted:
        _noted.add((str(root), "batch"))
        print(f"note: {root}: looks like a batch transform job's folder ({len(batch_like)} data file(s) under "
              f"{'/ or '.join(_BATCH_FOLDERS)}/, e.g. {batch_like[0]}, skipped): read it as one (--capture-format batch "
              "on the command line, monitoring_input_type BATCH_TRANSFORM in a processing job)", file=sys.stderr,
              flush=True)
    return files


def open_lines(path: Path) -> BinaryIO:
    """``path`` opened for reading lines as bytes: gunzipped when its first bytes say gzip, without a
    leading UTF-8 byte-order mark. An unopenable file is an ``AnalyzerInputError`` naming it."""
    try:
        handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except OSError as error:
        raise AnalyzerInputError(f"cannot open this file ({error.strerror or error}); its records cannot be read "
                                 "or counted", path=str(path)) from None
    try:
        if handle.peek(2)[:2] == GZIP_MAGIC:  # type: ignore[attr-defined]
            handle = gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[assignment]
        if handle.peek(3)[:3] == UTF8_BOM:  # type: ignore[attr-defined]
            handle.read(3)
    except (OSError, EOFError, zlib.error) as error:
        handle.close()
        raise AnalyzerInputError(f"cannot decompress this file ({error})", path=str(path)) from None
    return handle


def read_lines(path: Path) -> Iterator[bytes]:
    """The lines of ``path`` (see ``open_lines``), to be closed by the caller (``contextlib.closing``): a plain
    file is its own iterator (no wrapper on the hot path); a compressed one whose stream breaks off is an
    ``AnalyzerInputError`` naming it, never a silently shorter input."""
    handle = open_lines(path)
    return _to_the_end(handle, path) if isinstance(handle, gzip.GzipFile) else handle


def _to_the_end(handle: BinaryIO, path: Path) -> Iterator[bytes]:
    with handle:
        try:
            yield from handle
        except (OSError, EOFError, zlib.error) as error:
            raise AnalyzerInputError(f"cannot read this file to its end ({error})", path=str(path)) from None


def iter_json_lines(path: Path, *, what: str = "record") -> Iterator[tuple[int, object]]:
    """(line number, parsed value) of every non-blank line; a line that is not JSON raises
    ``AnalyzerInputError`` naming the file and line."""
    with contextlib.closing(read_lines(path)) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError as error:  # not JSON, or not UTF-8
                reason = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8 text"
                raise AnalyzerInputError(f"not a JSON {what} ({reason})", path=str(path), line=number) from None


def iter_json_objects(
    files: Sequence[Path], *, problems: InputProblems, what: str = "record"
) -> Iterator[tuple[Path, int, dict]]:
    """(file, line number, object) of every non-blank line of ``files`` that is a JSON object.

    The input-data policy: a line that is not JSON, or not an object, is counted in ``problems``
    with its file and line and skipped; the caller checks the tolerated ratio at the end.
    """
    loads = orjson.loads
    for path in files:
        text = str(path)
        with contextlib.closing(read_lines(path)) as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    value = loads(line)
                except orjson.JSONDecodeError as error:
                    if line.strip():
                        problems.record_bad(text, number,
                                            f"not a JSON {what} ({error.args[0] if error.args else error})")
                    continue
                if isinstance(value, dict):
                    yield path, number, value
                else:
                    problems.record_bad(text, number, f"a {what} must be a JSON object")


def loads_as_arrow_reads(text: bytes | str) -> object:
    """One JSON value, as ``orjson.loads`` reads it, also taking the values beside strict JSON that Arrow's JSON
    reader takes, so that a line reads the same whichever of the two reads it: the words ``NaN``, ``Infinity`` and
    ``-Infinity`` (Python's ``json.dumps`` writes them for a float NaN and the infinities) and a number beyond
    float64's range (pandas writes float64's largest as ``1.797693135e+308``), as a float NaN or infinity. An
    integer beyond 64 bits is a float, as orjson reads it. (Arrow also takes ``Inf``, ``-Inf`` and ``-NaN``, which
    are no JSON: ``holds_words_beyond_json`` sends a chunk holding one here, where it is refused.)

    ``orjson.JSONDecodeError`` for anything else orjson refuses: text that is not UTF-8, a lone surrogate escape
    (``"\\ud800"``, no character), bad JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        refused = error
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        value = json.loads(decoded, parse_int=_integer_as_orjson_reads)
        if "\\u" in decoded:  # a lone surrogate escape is no character: refused
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        raise refused from None
    return value


def json_text(value: object) -> str:
    """A parsed JSON value (a list or an object) as compact JSON text, as orjson writes it; nested deeper than orjson
    writes (255 levels), as Python's json module writes it, compact too."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _integer_as_orjson_reads(digits: str) -> int | float:
    number = int(digits)
    return number if -(1 << 63) <= number < (1 << 64) else float(number)


#: the words Arrow's JSON reader takes as numbers that neither JSON nor Python's json module takes
_WORDS_BEYOND_JSON = rb'[:,\[]\s*(?:-?Inf|-NaN)\s*[,}\]]'


def holds_words_beyond_json(chunk: bytes) -> bool:
    """Whether a chunk may hold ``Inf``, ``-Inf`` or ``-NaN`` as a value, which Arrow reads as a number and every
    other reader refuses: such a chunk is read line by line (a string holding one only costs that)."""
    # json.dumps's Infinity is common where floats overflow: only an Inf that is not one, or a -NaN, needs the search
    if b"-NaN" not in chunk and chunk.count(b"Inf") == chunk.count(b"Infinity"):
        return False
    return re.search(_WORDS_BEYOND_JSON, chunk) is not None


# ---------------------------------------------------------------- column-wise chunks
_OPEN_BRACE = ord("{")
JSON_BLOCK_BYTES = 2 << 20  # Arrow's JSON reader parses a chunk in blocks of about this size, one per thread


def line_bounds(chunk: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of every line of a chunk of whole lines (the last may lack its line break)."""
    ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
    if chunk and not chunk.endswith(b"\n"):
        ends = np.append(ends, len(chunk))
    return np.concatenate(([0], ends[:-1] + 1)).astype(np.int64), ends.astype(np.int64)


def _object_line_bounds(chunk: bytes, bounds: tuple[np.ndarray, np.ndarray] | None = None
                        ) -> tuple[np.ndarray, np.ndarray] | None:
    """``line_bounds`` (``bounds``, when the caller found them already) when every line starts a JSON object, as
    SageMaker writes them; None otherwise (an empty or blank line, which Arrow's JSON reader skips so that its
    rows would no longer be the lines; a bare ``null``, which crashes it in pyarrow 25; anything else)."""
    starts, ends = line_bounds(chunk) if bounds is None else bounds
    if len(ends) == 0:
        return None
    data = np.frombuffer(chunk, dtype=np.uint8)
    if not bool((data[np.minimum(starts, len(chunk) - 1)] == _OPEN_BRACE).all()) or bool((starts == ends).any()):
        return None
    return starts, ends


def json_chunk_table(chunk: bytes, options: pajson.ParseOptions, *, use_threads: bool = True,
                     bounds: tuple[np.ndarray, np.ndarray] | None = None
                     ) -> tuple[pa.Table, np.ndarray, np.ndarray] | None:
    """A chunk of whole JSON Lines parsed column-wise by Arrow's JSON reader (``options``: the explicit
    schema of the fields wanted), with the (starts, ends) of its lines, one row a line; None when the chunk
    must be read line by line: a line that is not an object, a blank line, a value Arrow refuses (a field
    of another type than the schema's, bad JSON), or two records on one line. ``bounds``: the chunk's
    ``line_bounds``, when the caller has them.

    ``use_threads``: blocks of the chunk parsed on every core. A caller whose processes or threads already
    keep every core busy passes False: the chunk is then parsed as one block, on its own thread, which costs
    about a fifth less CPU than blocks handed between threads (and the same rows)."""
    bounds = _object_line_bounds(chunk, bounds)
    if bounds is None:
        return None
    # each block holds at least its longest line whole
    longest = int((bounds[1] - bounds[0]).max()) + 1
    block_size = max(JSON_BLOCK_BYTES, 2 * longest) if use_threads else max(len(chunk), 2 * longest) + 1
    try:
        table = pajson.read_json(pa.BufferReader(chunk), parse_options=options,
                                 read_options=pajson.ReadOptions(use_threads=use_threads, block_size=block_size))
    except pa.ArrowInvalid:
        return None
    if table.num_rows != len(bounds[0]):
        return None
    return table, bounds[0], bounds[1]
