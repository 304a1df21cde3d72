"""The Spark runner of the analyzer: the local engine's computation with Spark's executors reading the parts.

One computation, two runners. Spark reads the input with its own readers (``s3://`` through its S3
connector on AWS): each partition's lines go, as an Arrow string column, to the same chunk readers of
``io`` the local engine calls, and become the same mergeable per-part states of ``profile``; each
partition sends its states back serialised, and the driver merges them in input order and runs the same
checks and writes the same reports as the local engine (``monitors.<type>.run``, with a profiler that
reads through Spark for data quality; for model quality and bias, a join of the captures with the window's
labels, broadcast from the driver, on the executors: ``spark.model_quality``, ``spark.bias``). Inputs and outputs given as URIs go through Hadoop's FileSystem API on the driver
(``spark.locations``).

pyspark is imported here lazily, and only by this package: the normal image and CLI run without it.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from model_monitor_analyzer.errors import AnalyzerInputError, NotAvailableError
from model_monitor_analyzer.jobs.requests import EngineOptions

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL_HINT = "pip install 'pyspark>=4.0,<5' (and Java 17), or run it with spark-submit"
DEFAULT_MASTER = "local[*]"
APP_NAME = "model-monitor-analyzer"
LOG_CONFIG = Path(__file__).resolve().parent / "log4j2.properties"


def spark_session(engine: EngineOptions) -> SparkSession:
    """The running Spark session, or one started on ``engine.spark_master``; without a master given, the one
    spark-submit set (its Python driver runs with a gateway to the JVM), else ``local[*]``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise NotAvailableError(f"--engine spark needs pyspark, which is not installed: {INSTALL_HINT}") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName(APP_NAME)
    if engine.spark_master is not None:
        require_reachable_master(engine.spark_master)
        builder = builder.master(engine.spark_master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
        builder = builder.master(DEFAULT_MASTER)
    if "PYSPARK_GATEWAY_PORT" not in os.environ and "PYSPARK_PYTHON" not in os.environ:
        # started from this interpreter: its (local) Python workers run it too, which has the analyzer installed
        os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    if "PYSPARK_GATEWAY_PORT" not in os.environ and "SPARK_CONF_DIR" not in os.environ:
        # the JVM starts here: Spark logs errors only, not its start-up lines before the analyzer's messages
        builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}")
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")  # mapInArrow needs none
    try:
        return builder.getOrCreate()
    except Exception as exc:  # pyspark raises its own kinds (no Java, a bad master URL)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotAvailableError(f"Spark did not start ({first}): check --spark-master and that Java 17 is "
                                "installed (java -version)") from None


MASTER_CONNECT_SECONDS = 5.0


def require_reachable_master(master: str) -> None:
    """A standalone master (``spark://host:port``, or several hosts for a standby) that takes no connection is said
    in one line now; Spark itself would retry for about 80 seconds and then report that all masters are
    unresponsive. YARN without its configuration (``HADOOP_CONF_DIR`` or ``YARN_CONF_DIR``) is said in one line too:
    Spark's launcher would print a Java stack trace and exit. Other masters (``local``, ``k8s://``) are left to
    Spark."""
    if master == "yarn" and not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
        raise NotAvailableError("--spark-master yarn needs the cluster's configuration: set HADOOP_CONF_DIR or "
                                "YARN_CONF_DIR to the folder holding yarn-site.xml (on an EMR node: /etc/hadoop/conf)")
    if not master.startswith("spark://"):
        return
    addresses = []
    for part in master[len("spark://"):].split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdigit():
            raise AnalyzerInputError(f"--spark-master {master}: give each master as host:port, e.g. "
                                     "spark://master.example:7077")
        addresses.append((host.strip("[]"), int(port)))
    for address in addresses:
        try:
            with socket.create_connection(address, timeout=MASTER_CONNECT_SECONDS):
                return
        except OSError:
            continue
    raise NotAvailableError(f"the Spark master {master} takes no connection (tried for {MASTER_CONNECT_SECONDS:g} s): "
                            "check its address and port and that it runs")


@contextlib.contextmanager
def spark_job_errors(what: str, uris: list[str]) -> Iterator[None]:
    """Spark's errors of a job reading ``uris`` said in one line: an input Spark cannot read is the user's
    (``AnalyzerInputError`` naming ``what``), as is a file its reader fails on (a corrupt Parquet file: Spark's
    ``FAILED_READ_FILE``); executors whose Python lacks the analyzer are not available; any other error is raised as
    it is."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import AnalysisException, PythonException

    try:
        yield
    except AnalysisException as exc:
        raise AnalyzerInputError(f"Spark cannot read the {what} ({str(exc).strip().splitlines()[0]})",
                                 path=uris[0] if len(uris) == 1 else None) from None
    except Py4JJavaError as exc:
        failure = str(exc.java_exception.toString())
        if "FAILED_READ_FILE" not in failure:
            raise
        cause = exc.java_exception.getCause()
        while cause is not None and cause.getCause() is not None:
            cause = cause.getCause()
        said = failure.strip().splitlines()[0].split("] ", 1)[-1].split("  SQLSTATE")[0].rstrip(". ")
        if cause is not None:
            said += f": {str(cause.toString()).strip().splitlines()[0]}"
        raise AnalyzerInputError(f"Spark cannot read the {what} ({said})",
                                 path=uris[0] if len(uris) == 1 else None) from None
    except PythonException as exc:
        missing = re.search(r"(ModuleNotFoundError|ImportError): [^\n]*", str(exc))
        if missing is None:
            raise
        raise NotAvailableError(
            f"the Spark executors' Python cannot run the analyzer ({missing.group(0)}): install "
            "model-monitor-analyzer and its dependencies on every executor (the Spark image has them), or point "
            "PYSPARK_PYTHON at a Python that has them") from None
