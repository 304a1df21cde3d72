"""The bias floor: the bare parse of a CSV data set into a table (types inferred, every column), nothing more.

``--reader pyarrow`` uses ``pyarrow.csv.read_csv``, ``--reader polars`` uses ``polars.read_csv``, each with all
cores; prints one JSON line: the seconds, the rows read and the library's version.

Run: ``python -m bench.contenders.floor_table --reader pyarrow --dataset FILE``.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version
from pathlib import Path

READERS = ("pyarrow", "polars")


def read_rows(reader: str, path: Path) -> int:
    """Parse the CSV at ``path`` (header, types inferred) with ``reader``; return its row count."""
    if reader == "pyarrow":
        import pyarrow.csv as pacsv

        return pacsv.read_csv(path).num_rows
    import polars as pl

    return pl.read_csv(path, infer_schema_length=10_000).height


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reader", choices=READERS, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = read_rows(args.reader, args.dataset)
    print(json.dumps({"load": time.perf_counter() - started, "rows": rows, "version": version(args.reader)}))


if __name__ == "__main__":
    main()
