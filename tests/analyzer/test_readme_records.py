"""The capture record and label the README shows are read by the analyzer as the README says: joined
by the inference id, the prediction and the label taken from them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.capture import parse_capture_line
from model_monitor_analyzer.io.ground_truth import read_ground_truth

README = Path(__file__).resolve().parents[2] / "README.md"


def _json_blocks_of(section: str) -> list[dict]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"#### {section}")
    end = text.index("\n#", start + 5)
    return [json.loads(block) for block in re.findall(r"^```json\n(.*?)^```", text[start:end], re.S | re.M)]


def test_the_readme_capture_record_and_label_join_as_documented(tmp_path):
    capture, label = _json_blocks_of("What a captured record and a label look like")
    record = parse_capture_line(json.dumps(capture).encode())
    assert record.endpoint_input.data == "42,0.7,gold" and record.endpoint_output.data == "0.83"
    hour = tmp_path / "ground-truth" / "2026" / "11" / "25" / "12"
    hour.mkdir(parents=True)
    (hour / "labels.jsonl").write_text(json.dumps(label) + "\n")
    result = merge.merge_records([record], read_ground_truth(tmp_path / "ground-truth"))
    assert result.summary.matched == 1
    [(joined, truth)] = result.matches
    assert joined.event_metadata.inference_id == "order-1017" and truth.record["groundTruthData"]["data"] == "1"
