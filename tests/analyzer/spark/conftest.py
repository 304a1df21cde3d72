"""One local Spark session for the Spark runner's tests (pyspark in local mode, Java 17: ``make java``)."""

from __future__ import annotations

import contextlib
import os
import sys

import pytest

from model_monitor_analyzer.spark.data_quality import TASK_BYTES_KEY


@pytest.fixture(scope="session")
def spark():
    """A ``local[2]`` session (UI off, few shuffle partitions) that every Spark run of the session uses: the runner
    takes the active session. A machine without pyspark or Java fails here, naming what is missing."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.fail("pyspark is not installed: pip install -e '.[dev]' (the dev extra has pyspark)")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers import the analyzer from this interpreter
    session = (
        SparkSession.builder.master("local[2]").appName("analyzer-tests")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def split_files(spark):
    """``split_files(bytes)``: a context in which Spark cuts input files into splits of about that many bytes, and
    a data-quality task holds about that many bytes of whole files."""

    @contextlib.contextmanager
    def splits(size: int | None):
        keys = ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes", TASK_BYTES_KEY)
        before = {key: spark.conf.get(key, None) for key in keys}
        if size is not None:
            spark.conf.set(keys[0], str(size))
            spark.conf.set(keys[1], str(min(size, 4 << 20)))
            spark.conf.set(keys[2], str(size))
        try:
            yield
        finally:
            for key, value in before.items():
                if value is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, value)

    return splits
