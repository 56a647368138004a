"""scripts/build_tfrecords.py and scripts/benchmark_input.py end to end."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _run(script, *flags):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", script), *flags],
        capture_output=True, text=True, timeout=240,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def test_build_then_benchmark_synthetic(tmp_path):
    out = str(tmp_path / "records")
    built = _run("build_tfrecords.py", "--dataset=synthetic",
                 f"--output_dir={out}", "--num_examples=6",
                 "--image_size=32,48", "--num_shards=2")
    assert built.returncode == 0, built.stderr
    assert "train" in built.stdout and "disc" in built.stdout
    assert sorted(os.listdir(out)) == [
        "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord",
        "val-00000-of-00002.tfrecord", "val-00001-of-00002.tfrecord"]
    again = _run("build_tfrecords.py", "--dataset=synthetic",
                 f"--output_dir={out}", "--num_examples=6")
    assert again.returncode != 0 and "--overwrite" in again.stderr
    bench = _run("benchmark_input.py", f"--source={out}", "--crop_size=16,16",
                 "--batch_size=2", "--num_batches=5", "--warmup_batches=2")
    assert bench.returncode == 0, bench.stderr
    result = json.loads(bench.stdout.strip().splitlines()[-1])
    assert result["images"] == 10 and result["images_per_second"] > 0


def test_build_reports_the_expected_layout(tmp_path):
    bad = _run("build_tfrecords.py", "--dataset=ade20k",
               f"--data_dir={tmp_path}", f"--output_dir={tmp_path}/o")
    assert bad.returncode != 0
    assert (f"ade20k: expected images/training at {tmp_path}/images/training"
            in bad.stderr)
