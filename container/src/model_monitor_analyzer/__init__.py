"""Drop-in analyzer for SageMaker Model Monitor: data quality, model quality and bias drift.

Data flows one way: ``io`` (read datasets and capture files into columnar batches) ->
``profile`` (mergeable statistics) -> ``checks`` (constraints, drift, model quality, bias) ->
``report`` (SageMaker-format JSON files and CloudWatch metric lines). ``contract`` is the only
package that knows SageMaker's environment variables and /opt/ml paths; ``jobs`` glue the
layers into the runs that the CLI and the container entrypoint expose.
"""

__version__ = "0.1.0"
