"""The MC-samples curve (Fig. 3): disjoint draw groups, scores per draw."""

import keras
import numpy as np
import pytest

from bayesian_segnet_tf import MonteCarloSampler, build_model, mc_predict
from bayesian_segnet_tf.sample_curve import SampleCurve, sample_groups


def test_groups_are_disjoint_consecutive_draws():
    assert sample_groups(5, (1, 2, 5, 10)) == {
        1: [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)],
        2: [(0, 2), (2, 4)], 5: [(0, 5)]}
    assert sorted(sample_groups(7, (1, 5, 10))) == [1, 5, 7]


def test_scores_per_draw_match_hand_built_confusion_matrices():
    # Two pixels, labels (0, 1), 2 classes, 4 samples. Pixel 0 is right
    # in samples 0, 1, 2 and wrong in 3; pixel 1 is wrong in sample 0 only.
    labels = np.array([[0, 1]])
    right = np.array([0.9, 0.1])
    p0 = [right, right, right, right[::-1]]
    p1 = [right, right[::-1], right[::-1], right[::-1]]
    probs = np.stack([np.stack([a, b])[None] for a, b in zip(p0, p1)])
    curve = SampleCurve(num_classes=2, num_samples=4, counts=(1, 2, 4))
    curve.update(labels, probs)
    result = curve.result()
    # T = 1, draws 0..3: (pixel0 ok, pixel1 ok) = (1,0) (1,1) (1,1) (0,1).
    # Global accuracy 0.5, 1, 1, 0.5; mIoU: draw 0 predicts (0, 0): IoU
    # class 0 = 1/2, class 1 = 0 -> 0.25; draw 3 predicts (1, 1): 0.25.
    assert result[1]["global_accuracy"]["draws"] == 4
    assert result[1]["global_accuracy"]["mean"] == pytest.approx(0.75)
    assert result[1]["mean_iou"]["min"] == pytest.approx(0.25)
    assert result[1]["mean_iou"]["max"] == pytest.approx(1.0)
    assert result[1]["mean_iou"]["mean"] == pytest.approx(0.625)
    # T = 2: draws (0,1) -> pixel 1 tie 0.5/0.5 -> argmax class 0 (wrong);
    # (2,3) -> pixel 0 tie -> class 0 (right), pixel 1 right.
    assert result[2]["global_accuracy"]["min"] == pytest.approx(0.5)
    assert result[2]["global_accuracy"]["max"] == pytest.approx(1.0)
    # T = 4: one draw, means (0.7, 0.3) and (0.3, 0.7): both right.
    assert result[4]["class_accuracy"] == {
        "mean": 1.0, "min": 1.0, "max": 1.0, "std": 0.0, "draws": 1}


def test_sample_probabilities_average_to_mc_predict():
    keras.utils.set_random_seed(1)
    model = build_model(arch="segnet_basic", dropout="central",
                        width_multiplier=0.125, num_classes=4)
    image = np.random.default_rng(1).uniform(0, 255, (1, 24, 32, 3))
    image = image.astype(np.float32)
    sampler = MonteCarloSampler(model, 5, chunk_size=2)
    probs = sampler.sample_probabilities(image, seed=6)
    assert probs.shape == (5, 24, 32, 4)
    want = mc_predict(model, image, 5, seed=6, chunk_size=2)
    np.testing.assert_allclose(probs.mean(0), want["probabilities"][0],
                               atol=1e-6)
    np.testing.assert_allclose(probs.var(0), want["variance"][0], atol=1e-6)
    assert probs.std(0).max() > 1e-3   # the samples differ
