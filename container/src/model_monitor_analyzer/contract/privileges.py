"""Run the analysis as an unprivileged user inside SageMaker.

SageMaker mounts the processing job's output folders owned by root, so a container whose image
sets a non-root ``USER`` cannot write its reports there. The image therefore starts as root and
names the user to run as in ``MODEL_MONITOR_RUN_AS`` (``uid:gid``): the entrypoint hands the
folders it must write to that user, then switches to it before reading any data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

RUN_AS_ENV = "MODEL_MONITOR_RUN_AS"


@dataclass(frozen=True, kw_only=True)
class ProcessIdentity:
    """The operating-system calls the switch needs (replaced in tests)."""

    geteuid: Callable[[], int] = os.geteuid
    chown: Callable[[str, int, int], None] = os.chown
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
        raise ValueError(f"{RUN_AS_ENV}={value!r}: use numeric 'uid:gid', e.g. '1000:1000'") from None
    if uid <= 0 or gid <= 0:
        raise ValueError(f"{RUN_AS_ENV}={value!r}: name a non-root uid and gid")
    return uid, gid


def _tree(path: Path) -> Iterable[Path]:
    yield path
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                yield Path(root) / name


def drop_privileges(env: Mapping[str, str], writable: Iterable[Path], *,
                    identity: ProcessIdentity = ProcessIdentity()) -> bool:
    """Give ``writable`` folders (created if missing) to the ``MODEL_MONITOR_RUN_AS`` user and become it.

    Does nothing (returns False) when the variable is unset or the process is not root, e.g. when
    SageMaker already runs the container as another user, or outside a container.
    """
    value = env.get(RUN_AS_ENV)
    if not value or identity.geteuid() != 0:
        return False
    uid, gid = parse_run_as(value)
    for folder in writable:
        folder.mkdir(parents=True, exist_ok=True)
        for path in _tree(folder):
            identity.chown(str(path), uid, gid)
    identity.setgroups([])
    identity.setgid(gid)
    identity.setuid(uid)
    return True
