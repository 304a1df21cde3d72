"""What the Lambda handlers share: AWS clients and errors, JSON logs, times and names, and the tables of monitor
types and window statuses (which the constructs read too).

Bundled into every function's asset beside ``index.py`` (see cdk_model_monitor.bundled), so each
handler imports ``_shared`` the way it would a library, and no helper is copied between handlers.
Standard library and boto3 only: the Lambda runtime provides nothing else.
"""
