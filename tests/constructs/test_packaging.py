"""The wheel carries the Lambda code and the analyzer's Docker context, found from the installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

pytestmark = pytest.mark.slow

APP = textwrap.dedent("""
    import cdk_model_monitor
    from cdk_model_monitor.bundled import analyzer_context_dir, lambda_code_dir
    import aws_cdk as cdk
    from aws_cdk import aws_ecr_assets as ecr_assets, aws_lambda as lambda_

    app = cdk.App(outdir="cdk.out")
    stack = cdk.Stack(app, "Packaged")
    storage = cdk_model_monitor.MonitoringBucket(stack, "Storage")
    cdk_model_monitor.CapturedEndpoint(stack, "Endpoint", bucket=storage,
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1")
    lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                     code=lambda_.Code.from_asset(lambda_code_dir("retrain_trigger")))
    ecr_assets.DockerImageAsset(stack, "Analyzer", directory=analyzer_context_dir())
    app.synth()
    print(cdk_model_monitor.__file__)
""")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(REPO_ROOT)], check=True)
    (found,) = out.glob("cdk_model_monitor-*.whl")
    return found


def test_wheel_contains_lambda_code_and_analyzer_context(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for function in ("retrain_trigger", "window_planner", "metrics_publisher"):
        assert f"cdk_model_monitor/_bundled/lambda/{function}/index.py" in names
    assert "cdk_model_monitor/_bundled/container/Dockerfile" in names
    assert "cdk_model_monitor/_bundled/container/pyproject.toml" in names
    assert not [n for n in names if "__pycache__" in n]


def test_installed_wheel_synthesizes_from_a_folder_outside_the_repository(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    # Dependencies come from the test environment; the library itself only from the wheel.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(wheel)], check=True)
    work = tmp_path / "user-project"
    work.mkdir()
    (work / "app.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JSII_NODE")}
    done = subprocess.run([python, "app.py"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1].startswith(str(site))

    assets = json.loads((work / "cdk.out" / "Packaged.assets.json").read_text())
    code = [a for a in assets["files"].values() if not a["source"]["path"].endswith(".template.json")]
    assert len(code) == 1 and len(assets["dockerImages"]) == 1
    staged_image = work / "cdk.out" / next(iter(assets["dockerImages"].values()))["source"]["directory"]
    assert (staged_image / "Dockerfile").is_file()
    assert (staged_image / "src" / "model_monitor_analyzer" / "__main__.py").is_file()
    assert (work / "cdk.out" / code[0]["source"]["path"] / "index.py").is_file()
