"""A Spark Python worker imports what reading and profiling a part needs, and nothing else: each worker of a job
pays its imports before its first task (the first job's warm-up, bench/results/spark.md).

The worker's task is run here in a fresh interpreter as Spark runs it: the function the driver pickles, unpickled
(which imports its modules), given one batch of a whole capture file as ``binaryFile`` hands it over.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import UTC, datetime
from functools import partial

from model_monitor_analyzer.io.capture import capture_reading
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.spark.partitions import Layout, LineReading, profile_whole_files

TASK = """
import pickle, sys
function = pickle.loads(bytes.fromhex(sys.argv[1]))
import numpy as np, pyarrow as pa
content, name = sys.argv[2].encode(), b"file:/captures/a.jsonl"
def one(kind, data):
    return pa.Array.from_buffers(kind, 1, [None, pa.py_buffer(np.array([0, len(data)], np.int32)), pa.py_buffer(data)])
(row,) = function([pa.RecordBatch.from_arrays([one(pa.binary(), content), one(pa.string(), name)],
                                              names=["content", "file"])])
profile, problems = pickle.loads(row.column(2)[0].as_py())
print(profile.item_count, problems.bad)
print(" ".join(sorted(m for m in sys.modules if m == "pandas" or m.startswith("model_monitor_analyzer."))))
"""

LINE = ('{"captureData":{"endpointInput":{"data":"30,Rome","encoding":"CSV"},"endpointOutput":{"data":"0.6",'
        '"encoding":"CSV"}},"eventMetadata":{"eventId":"e","inferenceTime":"2024-01-01T10:15:00Z"},'
        '"eventVersion":"0"}\n')


def test_a_worker_profiling_captures_imports_neither_pandas_nor_the_runs():
    window = TimeWindow(start=datetime(2024, 1, 1, 10, tzinfo=UTC), end=datetime(2024, 1, 1, 11, tzinfo=UTC))
    plan = LineReading(layout=Layout.CAPTURE, max_bad_record_ratio=0.5, capture=capture_reading(
        window=window, capture_index_names=("endpointInput", "endpointOutput"), output_first=True, input_names=None))
    function = pickle.dumps(partial(profile_whole_files, plan=plan))
    done = subprocess.run([sys.executable, "-c", TASK, function.hex(), LINE * 3 + "{broken\n"], capture_output=True,
                          text=True, check=True)
    counts, modules = done.stdout.strip().splitlines()
    assert counts == "3 1"  # the task ran: three records profiled, the broken line counted
    imported = set(modules.split())
    assert "pandas" not in imported  # Python-to-Arrow conversions and Array.to_numpy would import it
    assert not {m for m in imported if m.startswith(("model_monitor_analyzer.monitors", "model_monitor_analyzer.report",
                                                     "model_monitor_analyzer.checks"))}
    assert "model_monitor_analyzer.profile.dataset" in imported
