"""The container entrypoint hands its output folders to the analyzer user, then stops being root."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from model_monitor_analyzer.contract.privileges import ProcessIdentity, drop_privileges, parse_run_as


@dataclass
class FakeProcess:
    euid: int = 0
    calls: list[tuple] = field(default_factory=list)

    def identity(self) -> ProcessIdentity:
        return ProcessIdentity(
            geteuid=lambda: self.euid,
            chown=lambda path, uid, gid: self.calls.append(("chown", path, uid, gid)),
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
                           identity=process.identity())
    chowned = {c[1] for c in process.calls if c[0] == "chown"}
    assert chowned == {str(output), str(output / "metrics"), str(output / "metrics" / "old.jsonl"),
                       str(tmp_path / "output")}
    assert all(c[2:] == (1000, 1001) for c in process.calls if c[0] == "chown")
    assert process.calls[-3:] == [("setgroups", ()), ("setgid", 1001), ("setuid", 1000)]
    assert (tmp_path / "output").is_dir()  # created for the message file


@pytest.mark.parametrize("env, euid", [({}, 0), ({"MODEL_MONITOR_RUN_AS": "1000:1000"}, 1000)])
def test_nothing_changes_without_the_variable_or_when_not_root(tmp_path, env, euid):
    process = FakeProcess(euid=euid)
    assert not drop_privileges(env, [tmp_path], identity=process.identity())
    assert process.calls == []


@pytest.mark.parametrize("value", ["analyzer", "0:0", "1000:x"])
def test_run_as_must_be_a_numeric_non_root_identity(value):
    with pytest.raises(ValueError, match="MODEL_MONITOR_RUN_AS"):
        parse_run_as(value)


def test_a_bare_uid_uses_it_as_the_group_too():
    assert parse_run_as("1000") == (1000, 1000)
