"""The Spark runner's serial part on the driver, per task: unpickling a task's data-quality state and merging it.

On ``bench.generate``'s ``realistic`` capture (``--records``, files of 5,000 records), the files are taken
``--files-per-task`` at a time (19 is what Spark's default split of 128 MiB, with its 4 MiB cost of opening a file,
packs), and each group is profiled into one state as a Spark task profiles it (``io.capture.read_capture_batches``
into ``profile.dataset.profile_batches``, one thread) and pickled as the task sends it. The driver's part is then
timed alone: each state unpickled and merged into the first, in order, ``--rounds`` times over. The fetch of the
states from the executors is not in it (it depends on the cluster's network).

Run: ``python -m bench.spark_state_merge [--records 1000000] [--tasks 8]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import pickle
import time

from bench.generate import REALISTIC, ensure_dataset, spec_for
from model_monitor_analyzer.io.capture import capture_files, read_capture_batches
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.profile.dataset import profile_batches


def task_states(records: int, tasks: int, files_per_task: int) -> list[bytes]:
    """``tasks`` pickled states ``(profile, problems)`` of consecutive groups of capture files."""
    dataset = ensure_dataset(spec_for(records, kind=REALISTIC))
    files = capture_files(dataset.capture_dir)
    if len(files) < tasks * files_per_task:
        raise SystemExit(f"{len(files)} capture files hold fewer than {tasks} tasks of {files_per_task}: "
                         "give more --records or fewer --tasks")
    states = []
    for task in range(tasks):
        problems = InputProblems()
        group = files[task * files_per_task:(task + 1) * files_per_task]
        profile = profile_batches(
            read_capture_batches(dataset.capture_dir, problems=problems, files=group, use_threads=False),
            names=None, detailed_columns=frozenset(), progress=ProgressReporter(enabled=False))
        states.append(pickle.dumps((profile, problems)))
    return states


def merge_seconds(states: list[bytes], rounds: int) -> tuple[float, float]:
    """(seconds a state to unpickle and merge, of which unpickling), the fastest of ``rounds`` passes."""
    best_total = best_unpickle = float("inf")
    for _ in range(rounds):
        unpickle = 0.0
        started = time.perf_counter()
        merged = None
        for blob in states:
            before = time.perf_counter()
            profile, _ = pickle.loads(blob)
            unpickle += time.perf_counter() - before
            if merged is None:
                merged = profile
            else:
                merged.merge(profile)
        best_total = min(best_total, (time.perf_counter() - started) / len(states))
        best_unpickle = min(best_unpickle, unpickle / len(states))
    return best_total, best_unpickle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.spark_state_merge", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records of the realistic capture")
    parser.add_argument("--tasks", type=int, default=8, help="task states to make and merge")
    parser.add_argument("--files-per-task", type=int, default=19, help="capture files of 5,000 records a task")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the states; the fastest counts")
    args = parser.parse_args(argv)
    states = task_states(args.records, args.tasks, args.files_per_task)
    total, unpickle = merge_seconds(states, args.rounds)
    sizes = sorted(len(state) for state in states)
    print(f"Command: `python -m bench.spark_state_merge --records {args.records} --tasks {args.tasks} "
          f"--files-per-task {args.files_per_task} --rounds {args.rounds}`\n")
    print("| Task states | State size (MB, median) | ms a state: unpickle + merge | of which unpickle |")
    print("|---:|---:|---:|---:|")
    print(f"| {len(states)} | {sizes[len(sizes) // 2] / 1e6:.2f} | {total * 1e3:.1f} | {unpickle * 1e3:.1f} |")


if __name__ == "__main__":
    main()
