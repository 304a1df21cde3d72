"""The local engine reads a capture manifest of local files as Spark reads one: exactly the files it names."""

from __future__ import annotations

import json

from .spark.test_spark_data_quality import _baseline, _monitor, documents, write_capture


def test_a_manifest_of_local_files_reads_exactly_those_files(tmp_path, capsys):
    baseline = _baseline(tmp_path)
    capture = write_capture(tmp_path, files=3, per_file=300)
    files = sorted(capture.rglob("*.jsonl"))
    alone = tmp_path / "listed"
    for path in (files[0], files[2]):
        (alone / path.relative_to(capture)).parent.mkdir(parents=True, exist_ok=True)
        (alone / path.relative_to(capture)).write_bytes(path.read_bytes())
    for index, prefix in enumerate((capture.as_uri() + "/", str(capture))):
        manifest = tmp_path / f"capture-{index}.manifest.json"
        manifest.write_text(json.dumps([{"prefix": prefix}, *(str(p.relative_to(capture)) for p in (files[2], files[0]))]))
        assert _monitor(manifest, baseline, tmp_path / f"manifest-{index}") == 0
    assert _monitor(alone, baseline, tmp_path / "folder") == 0
    folder = documents(tmp_path / "folder")
    for index in range(2):
        ours = documents(tmp_path / f"manifest-{index}")
        assert ours["statistics.json"] == folder["statistics.json"]
        assert ours["constraint_violations.json"] == folder["constraint_violations.json"]


def test_a_manifest_of_s3_objects_or_of_a_missing_file_is_one_line(tmp_path, capsys):
    baseline = _baseline(tmp_path)
    manifest = tmp_path / "capture.manifest.json"
    manifest.write_text(json.dumps([{"prefix": "s3://capture-test-bucket/ep/"}, "2024/03/01/10/a.jsonl"]))
    assert _monitor(manifest, baseline, tmp_path / "out") == 2
    assert "names s3:// objects, which this engine does not read: run with the Spark engine (--engine spark" in \
        capsys.readouterr().err
    manifest.write_text(json.dumps([{"prefix": str(tmp_path)}, "missing.jsonl"]))
    assert _monitor(manifest, baseline, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "the manifest names a file that does not exist" in err and "Traceback" not in err


def test_a_manifest_prefix_with_a_space_spelt_as_a_uri_names_the_files(tmp_path):
    from model_monitor_analyzer.io.capture import capture_files

    folder = tmp_path / "my capture"
    folder.mkdir()
    (folder / "a.jsonl").write_text("{}\n")
    manifest = tmp_path / "capture.manifest.json"
    manifest.write_text(json.dumps([{"prefix": folder.as_uri() + "/"}, "a.jsonl"]))  # %20 for the space
    assert capture_files(manifest) == [folder / "a.jsonl"]
