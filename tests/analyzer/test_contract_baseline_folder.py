"""A job may point baseline_statistics / baseline_constraints at the folder its input downloaded to."""

from __future__ import annotations

import pytest

from model_monitor_analyzer.contract.data_quality import baseline_file
from model_monitor_analyzer.errors import AnalyzerInputError


def test_a_folder_with_one_json_file_resolves_to_that_file(tmp_path):
    (tmp_path / "3f2a9c.json").write_text("{}")
    assert baseline_file(tmp_path, "statistics") == tmp_path / "3f2a9c.json"


def test_a_file_path_is_used_as_is(tmp_path):
    path = tmp_path / "statistics.json"
    assert baseline_file(path, "statistics") == path


def test_a_folder_with_several_json_files_is_refused_naming_the_folder(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(AnalyzerInputError, match="exactly one .json file for the baseline constraints"):
        baseline_file(tmp_path, "constraints")
