"""Run the analysis as an unprivileged user inside SageMaker.

SageMaker mounts the processing job's output folders owned by root, so a container whose image
sets a non-root ``USER`` cannot write its reports there. The image therefore starts as root and
names the user to run as in ``MODEL_MONITOR_RUN_AS`` (``uid:gid``): the entrypoint hands the
folders it must write to that user, then switches to it before reading any data.

What runs as root is only that hand-over: making the folders, and changing the owner of the
folders and what is in them. It never follows a symbolic link (a link is given away itself, not
what it points at) and touches only folders inside the /opt/ml root (or
``MODEL_MONITOR_OPT_ML_ROOT``): an ``output_path`` elsewhere, or one that leads out of the root
through a link, stops the job before anything changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from model_monitor_analyzer.errors import AnalyzerInputError

RUN_AS_ENV = "MODEL_MONITOR_RUN_AS"


@dataclass(frozen=True, kw_only=True)
class ProcessIdentity:
    """The operating-system calls the switch needs (replaced in tests)."""

    geteuid: Callable[[], int] = os.geteuid
    lchown: Callable[[str, int, int], None] = os.lchown  # never through a symbolic link
    setgroups: Callable[[list[int]], None] = os.setgroups
    setgid: Callable[[int], None] = os.setgid
    setuid: Callable[[int], None] = os.setuid


def parse_run_as(value: str) -> tuple[int, int]:
    """``"1000:1000"`` -> (1000, 1000); ``"1000"`` -> (1000, 1000)."""
    uid_text, _, gid_text = value.partition(":")
    try:
        uid = int(uid_text)
        gid = int(gid_text) if gid_text else uid
    except ValueError:
        raise AnalyzerInputError(f"{RUN_AS_ENV}={value!r}: use numeric 'uid:gid', e.g. '1000:1000'") from None
    if uid <= 0 or gid <= 0:
        raise AnalyzerInputError(f"{RUN_AS_ENV}={value!r}: name a non-root uid and gid")
    return uid, gid


def _tree(path: Path) -> Iterable[Path]:
    yield path
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):  # does not descend into linked folders
            for name in dirs + files:
                yield Path(root) / name


def strictly_inside(folder: Path, root: Path) -> bool:
    """Whether ``folder`` lies below ``root`` (not ``root`` itself) once links are resolved."""
    return root.resolve() in folder.resolve().parents


def checked_writable(writable: Iterable[Path], *, root: Path) -> list[Path]:
    """``writable`` when every folder lies below ``root`` (never the root itself: it holds the job's
    config and inputs) once links are resolved; else the
    user's error naming the first that does not (nothing has been changed yet)."""
    folders = list(writable)
    for folder in folders:
        if not strictly_inside(folder, root):
            raise AnalyzerInputError(
                f"{folder} is not a folder inside {root}: the container writes only inside it; set output_path (or "
                f"CLOUDWATCH_METRICS_DIRECTORY) to a folder under {root}"
            )
    return folders


def drop_privileges(env: Mapping[str, str], writable: Iterable[Path], *, root: Path,
                    identity: ProcessIdentity = ProcessIdentity()) -> bool:
    """Give ``writable`` folders (created if missing) to the ``MODEL_MONITOR_RUN_AS`` user and become it.

    With the variable set, every folder must lie inside ``root`` (``checked_writable``). Does
    nothing else (returns False) when the variable is unset or the process is not root, e.g. when SageMaker already runs the
    container as another user, or outside a container.
    """
    value = env.get(RUN_AS_ENV)
    if not value:
        return False
    uid, gid = parse_run_as(value)
    folders = checked_writable(writable, root=root)  # refused alike whoever runs the image
    if identity.geteuid() != 0:
        return False
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        if not strictly_inside(folder, root):  # a link made while the folder was created
            raise AnalyzerInputError(f"{folder} leads outside {root} through a symbolic link")
        for path in _tree(folder):
            identity.lchown(str(path), uid, gid)
    identity.setgroups([])
    identity.setgid(gid)
    identity.setuid(uid)
    return True
