"""seg_common.metrics against hand-built confusion matrices and oracles."""

import numpy as np
import pytest

from seg_common import metrics


def _hand_case():
    # ground truth / prediction pairs, 3 classes, one ignored pixel.
    labels = np.array([[0, 0, 0, 1], [1, 1, 2, 255]])
    preds = np.array([[0, 0, 1, 1], [1, 2, 2, 0]])
    # confusion (rows gt): [[2,1,0],[0,2,1],[0,0,1]]
    return labels, preds


def test_confusion_matrix_hand_built():
    labels, preds = _hand_case()
    cm = metrics.ConfusionMatrix(3)
    cm.update(labels[:1], preds[:1])  # streaming: two batches
    cm.update(labels[1:], preds[1:])
    np.testing.assert_array_equal(cm.matrix, [[2, 1, 0], [0, 2, 1], [0, 0, 1]])
    r = cm.result()
    iou = [2 / 3, 2 / 4, 1 / 2]
    np.testing.assert_allclose(r["per_class_iou"], iou)
    np.testing.assert_allclose(r["mean_iou"], np.mean(iou))
    np.testing.assert_allclose(r["global_accuracy"], 5 / 7)
    np.testing.assert_allclose(r["class_accuracy"], np.mean([2 / 3, 2 / 3, 1]))
    fw = (3 * iou[0] + 3 * iou[1] + 1 * iou[2]) / 7
    np.testing.assert_allclose(r["frequency_weighted_iou"], fw)


def test_absent_class_is_nan_and_left_out_of_mean():
    labels = np.array([0, 0, 1, 1])
    preds = np.array([0, 1, 1, 1])
    cm = metrics.ConfusionMatrix(4)  # classes 2, 3 never occur
    cm.update(labels, preds)
    r = cm.result()
    assert np.isnan(r["per_class_iou"][2]) and np.isnan(r["per_class_iou"][3])
    np.testing.assert_allclose(r["mean_iou"], np.mean([1 / 2, 2 / 3]))
    np.testing.assert_allclose(r["mean_iou_all_classes"], (1 / 2 + 2 / 3) / 4)
    np.testing.assert_allclose(r["class_accuracy"], np.mean([1 / 2, 1]))


def test_predicted_but_absent_class_counts_as_zero():
    cm = metrics.ConfusionMatrix(3)
    cm.update(np.array([0, 0]), np.array([0, 2]))
    r = cm.result()
    assert r["per_class_iou"][2] == 0.0
    np.testing.assert_allclose(r["mean_iou"], (1 / 2 + 0) / 2)


def test_matches_tensorflow_mean_iou():
    import keras
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, size=(3, 8, 8))
    preds = np.where(rng.random(labels.shape) < 0.7, labels,
                     rng.integers(0, 5, size=labels.shape))
    cm = metrics.ConfusionMatrix(5)
    cm.update(labels, preds)
    ref = keras.metrics.MeanIoU(num_classes=5)
    ref.update_state(labels.reshape(-1), preds.reshape(-1))
    np.testing.assert_allclose(cm.result()["mean_iou"], float(ref.result()),
                               rtol=1e-6)


def test_rejects_out_of_range_predictions():
    with pytest.raises(ValueError, match="num_classes"):
        metrics.ConfusionMatrix(2).update(np.array([0]), np.array([3]))


def test_trimap_labels_band():
    labels = np.zeros((1, 7, 9), np.int32)
    labels[:, :, 5:] = 1  # vertical boundary between columns 4 and 5
    band1 = metrics.trimap_labels(labels, 1)
    kept = band1[0] != 255
    # boundary pixels are columns 4 and 5; width 1 adds columns 3 and 6.
    np.testing.assert_array_equal(np.where(kept.all(0))[0], [3, 4, 5, 6])
    assert not kept[:, [0, 1, 2, 7, 8]].any()
    np.testing.assert_array_equal(band1[0][kept], labels[0][kept])
    band0 = metrics.trimap_labels(labels, 0)
    np.testing.assert_array_equal(np.where((band0[0] != 255).all(0))[0], [4, 5])


def _exact_auroc(scores, positive):
    # Mann-Whitney U statistic with ties counted one half.
    pos, neg = scores[positive], scores[~positive]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (pos.size * neg.size)


def test_uncertainty_auroc_and_ece():
    rng = np.random.default_rng(2)
    num_classes = 3
    labels = rng.integers(0, num_classes, size=(2, 10, 10))
    probs = rng.dirichlet(np.ones(num_classes), size=labels.shape)
    uncertainty = rng.random(labels.shape) * 0.5
    labels[0, 0, :5] = 255
    um = metrics.UncertaintyMetrics(num_classes, num_bins=10,
                                    max_uncertainty=0.5, auroc_bins=100000)
    um.update(labels[:1], probs[:1], uncertainty[:1])
    um.update(labels[1:], probs[1:], uncertainty[1:])
    r = um.result()
    valid = labels != 255
    wrong = (probs.argmax(-1) != labels)[valid]
    np.testing.assert_allclose(
        r["auroc_misclassification"],
        _exact_auroc(uncertainty[valid], wrong), atol=1e-3)
    conf = probs.max(-1)[valid]
    ece = 0.0
    for b in range(10):
        sel = (conf >= b / 10) & (conf < (b + 1) / 10)
        if sel.any():
            ece += sel.sum() / conf.size * abs((~wrong[sel]).mean() -
                                               conf[sel].mean())
    np.testing.assert_allclose(r["expected_calibration_error"], ece)
    assert sum(r["reliability"]["count"]) == valid.sum()


def test_perfect_uncertainty_has_auroc_one():
    labels = np.array([[0, 1, 0, 1]])
    probs = np.array([[[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]]])
    uncertainty = np.array([[0.1, 0.9, 0.2, 0.15]])  # only pixel 1 is wrong
    um = metrics.UncertaintyMetrics(2)
    um.update(labels, probs, uncertainty)
    assert um.result()["auroc_misclassification"] == 1.0
