"""``python -m model_monitor_analyzer``: the CLI, or the container contract when run without arguments."""

import sys

from model_monitor_analyzer.cli import main

sys.exit(main())
