"""The benchmark's goals, in one place: every page prints its figures beside these.

Speed goals are ratios measured in the same run (never absolute seconds), from the project's issue on
benchmarks as users' data looks; the memory goals are those of the analyzer's "Measure" section.
"""

# Data quality, ours (baseline + monitor) at most this many times the bare parse of the same files, on every
# capture layout.
DATA_QUALITY_FLOOR = 1.25
# Evidently's DataDriftPreset and whylogs' profiles + drift scores at least this many times slower than ours
# (on the main layout).
EVIDENTLY_SPEEDUP = 15.0
WHYLOGS_SPEEDUP = 8.0
# The monitor on one capture file at least this much faster with two workers than with one.
TWO_WORKERS_SPEEDUP = 1.7
# Model quality (binary, captures joined with ground truth) at most this many times the bare parse of its inputs.
MODEL_QUALITY_FLOOR = 2.0
# Bias (every pre- and post-training metric, FlipTest included) at most this many times the parse of its data set.
BIAS_FLOOR = 4.0

# "Flat" memory: five times the records may cost at most a quarter more peak memory, from 1M records up.
FLAT_RSS_GROWTH = 1.25
FLAT_FROM_RECORDS = 1_000_000
PEAK_RSS_MB = 1024.0  # ours at most 1 GiB (the goal is stated at 10M records)
