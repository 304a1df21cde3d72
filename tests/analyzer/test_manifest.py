"""SageMaker manifest files: the planner's and a batch transform job's, read by one parser."""

from __future__ import annotations

import json

import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.manifest import looks_like_manifest, parse_manifest, read_manifest


def test_batch_transform_manifest_gives_full_locations(tmp_path) -> None:
    # the shape a transform job with data capture writes under output/yyyy/mm/dd/hh/
    document = [{"prefix": "s3://bucket/transform-output/"}, "test-dataset.jsonl.out", "/part-2.jsonl.out"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(document))
    manifest = read_manifest(path)
    assert manifest.locations() == [
        "s3://bucket/transform-output/test-dataset.jsonl.out",
        "s3://bucket/transform-output/part-2.jsonl.out",
    ]
    assert manifest.relative_paths() == ["test-dataset.jsonl.out", "part-2.jsonl.out"]


def test_prefix_without_slash_and_bom() -> None:
    text = b"\xef\xbb\xbf" + json.dumps([{"prefix": "s3://b/capture"}, "2026/01/01/00/a.jsonl"]).encode()
    assert parse_manifest(text, source="x").locations() == ["s3://b/capture/2026/01/01/00/a.jsonl"]
    assert looks_like_manifest(text)
    assert not looks_like_manifest(b'{"captureData": {}}')


def test_empty_manifest_lists_nothing() -> None:
    assert parse_manifest('[{"prefix": "s3://b/p/"}]', source="x").locations() == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "not JSON"),
        ("{}", "JSON array"),
        ("[]", "JSON array"),
        ('["a.csv"]', "first element"),
        ('[{"prefix": ""}]', "first element"),
        ('[{"prefix": "s3://b/"}, 3]', "element 2"),
        ('[{"prefix": "s3://b/"}, "a", "/"]', "element 3"),
    ],
)
def test_malformed_manifests_fail_with_one_line(text: str, says: str) -> None:
    with pytest.raises(AnalyzerInputError) as raised:
        parse_manifest(text, source="s3://b/m.json")
    assert says in str(raised.value)
    assert str(raised.value).startswith("s3://b/m.json: ")
    assert "\n" not in str(raised.value)


def test_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(AnalyzerInputError, match="not found"):
        read_manifest(tmp_path / "absent.json")
    with pytest.raises(AnalyzerInputError, match="folder"):
        read_manifest(tmp_path)
