"""What every monitor type's run shares: the registry of types (``registry``), the parts of a typed
request and the parsers of a user's text (``requests``), the command line's common options
(``options``), output folders (``outputs``), progress lines (``progress``), the run's outcome
(``outcome``) and the user's scripts (``custom_scripts``).

The types themselves are packages under ``model_monitor_analyzer.monitors`` (see there for their
interface), each registered once in ``jobs.registry``.
"""
