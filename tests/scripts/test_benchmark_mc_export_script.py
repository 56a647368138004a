"""scripts/benchmark_mc_export.py on a tiny SegNet-Basic: the export's labels
equal full-network passes under the same masks, and every figure is there."""

import json

from _inprocess import assert_one_line_error, call_script
from seg_common import hardware


def test_reports_memory_time_and_exact_agreement(tmp_path):
    out = tmp_path / "mc.json"
    result = call_script("benchmark_mc_export", "--preset=tiny",
                         "--image_size=24,32", "--mc_samples=3",
                         "--repeats=1", f"--output_json={out}")
    assert result.code == 0, result
    figures = json.loads(out.read_text())
    assert figures["labels_equal_full_passes"] == 1.0
    assert figures["cpu"] == hardware.describe_cpu()
    assert 0.1 < figures["peak_serving_gib"] < 8
    assert set(figures["seconds_per_image"]) == {"export", "mc_predict"}
    assert figures["export_over_mc_predict"] > 0
    assert result.stdout.startswith("CPU: ")


def test_wrong_preset_is_one_line():
    assert_one_line_error(call_script("benchmark_mc_export", "--preset=vgg"),
                          "--preset=vgg")
