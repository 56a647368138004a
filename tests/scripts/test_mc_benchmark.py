"""`benchmark.py --mc_samples`'s timing of MC sampling (`scripts/_mc_benchmark.py`)."""

import pytest
from _mc_benchmark import benchmark_mc


def test_benchmark_reports_all_modes_and_the_analytic_bound():
    result = benchmark_mc(arch="segnet_basic", image_size=(45, 60),
                          num_samples=2, chunk_size=2, repeats=1)
    assert set(result["seconds"]) == {"full_float32", "fast_float32",
                                      "fast_bfloat16"}
    # SegNet-Basic central at 45x60: conv1..3 (7x7) are shared.
    sizes = [(45, 60, 3), (23, 30, 64), (12, 15, 64), (6, 8, 64)]
    encoder = [h * w * 49 * c * 64 for h, w, c in sizes]
    decoder = [h * w * 49 * 64 * 64 for h, w, _ in sizes]
    total = sum(encoder) + sum(decoder) + 45 * 60 * 64 * 11
    assert result["multiply_adds"] == total
    assert result["prefix_bound"] == pytest.approx(
        total / (total - sum(encoder[:3])))
