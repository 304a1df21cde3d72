"""SageMaker's container contract: environment variables, /opt/ml paths, file names.

The shared pieces: ``paths``, ``environment`` (the job environment, ``dataset_format``, run modes),
``input_documents`` (baselines found by content), ``privileges`` and the ``entrypoint``. Each
monitor type's own keys are its package's ``environment`` adapter (``monitors.<type>.environment``);
``wording`` rewrites the command line's options in the document placements any run may print.
"""
