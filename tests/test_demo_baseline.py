"""The baselines the example app deploys are what the analyzer computes from the demo's embedded data."""

from __future__ import annotations

import json

import pytest

from demo import __main__ as demo
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def fresh_baselines(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "OUT", tmp_path_factory.mktemp("demo"))
        return demo.build_baselines()


@pytest.mark.parametrize("kind", ["data-quality", "model-quality", "bias"])
def test_committed_demo_baselines_are_reproduced_by_the_analyzer(fresh_baselines, kind):
    committed = demo.COMMITTED[kind]
    fresh = sorted(p.name for p in fresh_baselines[kind].glob("*.json"))
    assert fresh == sorted(p.name for p in committed.glob("*.json"))
    for name in fresh:
        assert json.loads((fresh_baselines[kind] / name).read_text()) == json.loads((committed / name).read_text()), (
            f"{committed.relative_to(REPO_ROOT)}/{name} is stale: run `python -m demo --update-baseline`")
