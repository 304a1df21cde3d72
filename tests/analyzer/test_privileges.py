"""The container entrypoint hands its output folders to the analyzer user, then stops being root."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from model_monitor_analyzer.contract.entrypoint import run_container
from model_monitor_analyzer.contract.privileges import ProcessIdentity, drop_privileges, parse_run_as
from model_monitor_analyzer.errors import AnalyzerInputError


@dataclass
class FakeProcess:
    euid: int = 0
    calls: list[tuple] = field(default_factory=list)

    def identity(self) -> ProcessIdentity:
        return ProcessIdentity(
            geteuid=lambda: self.euid,
            lchown=lambda path, uid, gid: self.calls.append(("chown", path, uid, gid)),
            setgroups=lambda groups: self.calls.append(("setgroups", tuple(groups))),
            setgid=lambda gid: self.calls.append(("setgid", gid)),
            setuid=lambda uid: self.calls.append(("setuid", uid)),
        )


def test_root_gives_the_output_folders_away_then_switches_user_last(tmp_path):
    output = tmp_path / "processing" / "output"
    (output / "metrics").mkdir(parents=True)
    (output / "metrics" / "old.jsonl").write_text("")
    process = FakeProcess()
    assert drop_privileges({"MODEL_MONITOR_RUN_AS": "1000:1001"}, [output, tmp_path / "output"],
                           root=tmp_path, identity=process.identity())
    chowned = {c[1] for c in process.calls if c[0] == "chown"}
    assert chowned == {str(output), str(output / "metrics"), str(output / "metrics" / "old.jsonl"),
                       str(tmp_path / "output")}
    assert all(c[2:] == (1000, 1001) for c in process.calls if c[0] == "chown")
    assert process.calls[-3:] == [("setgroups", ()), ("setgid", 1001), ("setuid", 1000)]
    assert (tmp_path / "output").is_dir()  # created for the message file


@pytest.mark.parametrize("env, euid", [({}, 0), ({"MODEL_MONITOR_RUN_AS": "1000:1000"}, 1000)])
def test_nothing_changes_without_the_variable_or_when_not_root(tmp_path, env, euid):
    process = FakeProcess(euid=euid)
    assert not drop_privileges(env, [tmp_path / "output"], root=tmp_path, identity=process.identity())
    assert process.calls == []


@pytest.mark.parametrize("value", ["analyzer", "0:0", "1000:x"])
def test_run_as_must_be_a_numeric_non_root_identity(value):
    with pytest.raises(AnalyzerInputError, match="MODEL_MONITOR_RUN_AS"):
        parse_run_as(value)


def test_a_bare_uid_uses_it_as_the_group_too():
    assert parse_run_as("1000") == (1000, 1000)


def test_a_link_inside_an_output_folder_is_given_away_itself_never_what_it_points_at(tmp_path):
    root = tmp_path / "opt-ml"
    output = root / "processing" / "output"
    output.mkdir(parents=True)
    secret = tmp_path / "etc"
    secret.mkdir()
    (secret / "passwd").write_text("")
    (output / "link").symlink_to(secret, target_is_directory=True)
    process = FakeProcess()
    assert drop_privileges({"MODEL_MONITOR_RUN_AS": "1000"}, [output], root=root, identity=process.identity())
    chowned = {c[1] for c in process.calls if c[0] == "chown"}
    assert chowned == {str(output), str(output / "link")}
    assert ProcessIdentity().lchown is os.lchown  # the real call changes the link, not its target


@pytest.mark.parametrize("where", ["outside", "through-a-link", "the-root-itself"])
def test_a_folder_outside_the_root_is_refused_before_anything_changes(tmp_path, where):
    root = tmp_path / "opt-ml"
    root.mkdir()
    if where == "outside":
        folder = tmp_path / "elsewhere"
    elif where == "the-root-itself":
        folder = root  # it holds the job's config and inputs: never given away
    else:
        (tmp_path / "elsewhere").mkdir()
        (root / "processing").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
        folder = root / "processing" / "output"
    process = FakeProcess()
    with pytest.raises(AnalyzerInputError, match="is not a folder inside"):
        drop_privileges({"MODEL_MONITOR_RUN_AS": "1000"}, [folder], root=root, identity=process.identity())
    assert process.calls == [] and (where == "the-root-itself" or not folder.exists())


def test_the_container_refuses_an_output_path_outside_its_root_in_one_message(tmp_path, capsys):
    root = tmp_path / "opt-ml"
    (root / "config").mkdir(parents=True)
    code = run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root), "MODEL_MONITOR_RUN_AS": "1000:1000",
                          "output_path": "/"})
    assert code != 0
    message = (root / "output" / "message").read_text()
    assert message.startswith("Error: / is not a folder inside") and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("link", ["message", "folder"])
def test_a_refused_jobs_message_never_goes_through_a_link(tmp_path, link):
    root = tmp_path / "opt-ml"
    (root / "config").mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "message").write_text("precious")
    if link == "message":
        (root / "output").mkdir()
        (root / "output" / "message").symlink_to(victim / "message")
    else:
        (root / "output").symlink_to(victim, target_is_directory=True)
    code = run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root), "MODEL_MONITOR_RUN_AS": "1000:1000",
                          "output_path": "/"})
    assert code != 0
    assert (victim / "message").read_text() == "precious"
