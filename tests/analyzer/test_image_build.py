"""The analyzer image is reproducible: base image by digest, every package from a hashed lock.

No Docker engine runs here, so the Dockerfile, its build context and the lock files are checked
as text against what they must hold; the image's behaviour is the container tests' business.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO_ROOT

CONTAINER = REPO_ROOT / "container"
DOCKERFILE = CONTAINER / "Dockerfile"
SPARK_DOCKERFILE = CONTAINER / "Dockerfile.spark"
RUNTIME_LOCK = CONTAINER / "requirements.lock"
BUILD_LOCK = CONTAINER / "requirements-build.lock"
SPARK_LOCK = CONTAINER / "requirements-spark.lock"
#: the environment the locks are resolved for (README, "Rebuilding the lock files"): markers are evaluated in it
LOCK_ENVIRONMENT = {"python_version": "3.11", "python_full_version": "3.11.0", "implementation_name": "cpython",
                    "platform_python_implementation": "CPython", "sys_platform": "linux", "platform_system": "Linux",
                    "platform_machine": "x86_64", "os_name": "posix", "extra": ""}
PINNED_BASE = re.compile(r"^python:3\.12\.\d+-slim-bookworm@sha256:[0-9a-f]{64}$")


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def _lock_entries(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """Canonical package name -> (pinned version, sha256 hashes) of a pip requirements lock."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = re.sub(r"\\\n", " ", lock.read_text())
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        name, sep, version = requirement.partition("==")
        assert sep, f"{lock.name}: {requirement!r} is not pinned with =="
        hashes = [o.removeprefix("--hash=sha256:") for o in options if o.startswith("--hash=sha256:")]
        entries[canonicalize_name(name)] = (version, hashes)
    return entries


def _dockerignore_admits(path: str) -> bool:
    """Whether the build context keeps ``path``: the last matching .dockerignore pattern wins."""
    admitted = True
    for raw in (CONTAINER / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
            admitted = negated
    return admitted


def _base_image_default() -> str:
    args = [a for kind, a in _instructions(DOCKERFILE) if kind == "ARG" and a.startswith("BASE_IMAGE=")]
    assert len(args) == 1, "the Dockerfile names its base image once, in ARG BASE_IMAGE=..."
    return args[0].removeprefix("BASE_IMAGE=")


def test_base_image_is_the_python_3_12_slim_tag_pinned_by_sha256_digest():
    assert PINNED_BASE.match(_base_image_default())


def test_every_stage_starts_from_the_pinned_base_image():
    stages: list[str] = []
    for kind, args in _instructions(DOCKERFILE):
        if kind != "FROM":
            continue
        image, *alias = args.split()
        assert image == "${BASE_IMAGE}" or image in stages, f"FROM {image} is not the pinned base image"
        if alias:
            assert alias[0].upper() == "AS"
            stages.append(alias[1])
    assert stages, "the build stage is named so the runtime stage copies only its wheel"


def test_every_copy_source_exists_in_the_build_context_and_is_not_dockerignored():
    copies = [shlex.split(args) for kind, args in _instructions(DOCKERFILE) if kind == "COPY"]
    from_context = [words for words in copies if not words[0].startswith("--from=")]
    assert from_context
    for *sources, _destination in from_context:
        for source in sources:
            assert (CONTAINER / source).exists(), f"COPY {source}: no such file in container/"
            assert _dockerignore_admits(source.rstrip("/")), f"COPY {source}: excluded by .dockerignore"


def test_runtime_lock_pins_every_dependency_of_the_analyzer_at_a_version_it_allows():
    project = tomllib.loads((CONTAINER / "pyproject.toml").read_text())["project"]
    locked = _lock_entries(RUNTIME_LOCK)
    for dependency in map(Requirement, project["dependencies"]):
        name = canonicalize_name(dependency.name)
        assert name in locked, f"{dependency.name} is missing from requirements.lock: rebuild the lock"
        assert dependency.specifier.contains(locked[name][0]), \
            f"requirements.lock pins {name}=={locked[name][0]}, outside {dependency.specifier}"


def test_build_lock_pins_the_build_backend_the_analyzer_declares():
    build_system = tomllib.loads((CONTAINER / "pyproject.toml").read_text())["build-system"]
    locked = _lock_entries(BUILD_LOCK)
    for requirement in map(Requirement, build_system["requires"]):
        name = canonicalize_name(requirement.name)
        assert name in locked and requirement.specifier.contains(locked[name][0]), requirement


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, BUILD_LOCK, SPARK_LOCK], ids=lambda p: p.name)
def test_every_locked_package_carries_sha256_hashes(lock):
    entries = _lock_entries(lock)
    assert entries
    for name, (_version, hashes) in entries.items():
        assert hashes, f"{lock.name}: {name} has no --hash (pip --require-hashes would refuse it)"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


def test_image_installs_packages_only_from_the_locks_with_hashes_checked():
    runs = [args for kind, args in _instructions(DOCKERFILE) if kind == "RUN"]
    pip_commands = [command.strip() for run in runs for command in run.split("&&")
                    if re.match(r"\s*pip (install|wheel)\b", command)]
    lock_installs = [c for c in pip_commands if " -r " in c]
    assert {c.split(" -r ")[1].split()[0].rsplit("/", 1)[-1] for c in lock_installs} == \
        {RUNTIME_LOCK.name, BUILD_LOCK.name}
    for command in pip_commands:
        words = command.split()
        # --no-deps everywhere: nothing outside the locks is resolved at build time
        assert "--no-deps" in words, command
        if command in lock_installs:
            assert "--require-hashes" in words, command
        else:
            # our own wheel: built from the copied sources by the locked backend, installed from a local file
            assert "--no-build-isolation" in words or words[-1].endswith(".whl"), command


def test_entrypoint_runs_the_module_the_container_tests_run():
    (entrypoint,) = [args for kind, args in _instructions(DOCKERFILE) if kind == "ENTRYPOINT"]
    python, flag, module = json.loads(entrypoint)  # exec form: a JSON list
    assert (python, flag) == ("python", "-m")
    assert (CONTAINER / "src" / module / "__main__.py").is_file()
    container_test = (Path(__file__).parent / "test_container_entrypoint.py").read_text()
    assert f'[sys.executable, "-m", "{module}"]' in container_test


def test_test_environment_rebuilds_when_the_lock_changes():
    makefile = (REPO_ROOT / "Makefile").read_text()
    (prerequisites,) = re.findall(r"^\$\(STAMP\):(.*)$", makefile, flags=re.MULTILINE)
    assert {"container/requirements.lock", "container/requirements-spark.lock"} <= set(prerequisites.split())
    assert "--require-hashes --no-deps -r container/requirements.lock" in makefile
    assert "--require-hashes --no-deps -r container/requirements-spark.lock" in makefile


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, SPARK_LOCK], ids=lambda p: p.name)
def test_test_environment_runs_the_locked_versions_of_the_analyzer_dependencies(lock):
    mismatched = {name: (version, metadata.version(name)) for name, (version, _h) in
                  _lock_entries(lock).items() if metadata.version(name) != version}
    assert not mismatched, (f"installed versions differ from container/{lock.name} (locked, installed): "
                            f"{mismatched}; rebuild the test environment with `make test` or `rm .venv/.installed`")


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, SPARK_LOCK], ids=lambda p: p.name)
def test_every_locked_package_finds_what_it_requires_in_its_lock(lock):
    """What ``pip check`` asks in the image: each locked package's own requirements (read from its installed metadata,
    the same version: the test above) are locked too, at versions they allow."""
    locked = _lock_entries(lock)
    unmet = []
    for name in locked:
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate(LOCK_ENVIRONMENT):
                continue
            wanted = canonicalize_name(requirement.name)
            if wanted not in locked or not requirement.specifier.contains(locked[wanted][0], prereleases=True):
                unmet.append(f"{name} requires {text}")
    assert not unmet, f"{lock.name}: {unmet}"


def test_spark_lock_is_the_runtime_lock_with_boto3_and_what_it_requires():
    """The Spark image's executors read S3 objects through boto3 (the analyzer's aws extra); the Processing image,
    which reads /opt/ml, stays without it. The packages both images have are pinned alike, hashes and all."""
    runtime, spark = _lock_entries(RUNTIME_LOCK), _lock_entries(SPARK_LOCK)
    assert "boto3" not in runtime and "botocore" not in runtime
    assert {name: spark[name] for name in runtime} == runtime
    extra = tomllib.loads((CONTAINER / "pyproject.toml").read_text())["project"]["optional-dependencies"]["aws"]
    for requirement in map(Requirement, extra):
        name = canonicalize_name(requirement.name)
        assert name in spark and requirement.specifier.contains(spark[name][0]), requirement
    assert set(spark) - set(runtime) == {"boto3", "botocore", "s3transfer", "python-dateutil", "six", "urllib3"}


def _pip_commands(dockerfile: Path) -> list[str]:
    runs = [args for kind, args in _instructions(dockerfile) if kind == "RUN"]
    return [re.sub(r"^python3(\.\d+)? -m ", "", command.strip()) for run in runs for command in run.split("&&")
            if re.match(r"\s*(python3(\.\d+)? -m )?pip (install|wheel|check)\b", command)]


def test_spark_image_installs_packages_only_from_its_locks_with_hashes_checked_and_pip_check():
    commands = _pip_commands(SPARK_DOCKERFILE)
    lock_installs = [command for command in commands if " -r " in command]
    assert {command.split(" -r ")[1].split()[0].rsplit("/", 1)[-1] for command in lock_installs} == \
        {SPARK_LOCK.name, BUILD_LOCK.name}
    for command in commands:
        words = command.split()
        if words[1] == "check":
            continue
        assert "--no-deps" in words, command
        assert "--require-hashes" in words if command in lock_installs else "--no-build-isolation" in words, command
    assert "pip check" in commands
    copies = [shlex.split(args) for kind, args in _instructions(SPARK_DOCKERFILE) if kind == "COPY"]
    for *sources, _destination in copies:
        for source in sources:
            assert (CONTAINER / source).exists(), f"COPY {source}: no such file in container/"
            assert _dockerignore_admits(source.rstrip("/")), f"COPY {source}: excluded by .dockerignore"
