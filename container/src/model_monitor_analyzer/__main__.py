"""``python -m model_monitor_analyzer``: the CLI, or the container contract when run without arguments."""

import gc
import sys

# The imports make some hundred thousand objects (modules, functions, classes) that live as long as the process: the
# collector does not look for garbage among them, neither while they are made nor in its later passes nor at exit.
gc.disable()
from model_monitor_analyzer.cli import main  # noqa: E402

gc.freeze()
gc.enable()
sys.exit(main())
