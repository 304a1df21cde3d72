"""SageMaker's container contract: environment variables, /opt/ml paths, file names.

The only package that knows them. One module per monitor type (``data_quality``,
``model_quality``, ``bias``) plus the shared ``paths`` and ``environment`` pieces.
"""
