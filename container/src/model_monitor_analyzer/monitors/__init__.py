"""One package per monitor type, each a unit: its typed request, command-line adapter, container
adapter and run (``<type>/request.py``, ``command_line.py``, ``environment.py``, ``run.py``),
registered once in ``jobs.registry``."""
