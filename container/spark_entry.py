"""What spark-submit runs: the analyzer's command line on Spark.

    spark-submit spark_entry.py monitor --engine spark --type data-quality --capture s3://... --output s3://...

The arguments are the command line's (``model-monitor-analyzer --help``); ``--engine spark`` makes the run use
the session spark-submit started (its master, executors and S3 connector). The Spark image copies this file to
/opt/analyzer/spark_entry.py, and EMR Serverless job runs name it as their entry point.
"""

import sys

from model_monitor_analyzer.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
