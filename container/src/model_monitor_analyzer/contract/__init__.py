"""SageMaker's container contract: environment variables, /opt/ml paths, file names.

The shared pieces: ``paths``, ``environment`` (the job environment, ``dataset_format``, run modes),
``input_documents`` (baselines found by content), ``privileges`` and the ``entrypoint``. Each
monitor type's own keys are its package's ``environment`` adapter (``monitors.<type>.environment``), which
also names them in its run's messages.
"""
