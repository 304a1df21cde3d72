"""Benchmark of the analyzer against Evidently, whylogs and the bare parse of the same files (`make bench`).

See README.md in this folder; `python -m bench --help` lists the options.
"""
