"""Shipped weights by name: float16 file, SHA-256 pinned, one-line errors."""

import keras
import numpy as np
import pytest

from bayesian_segnet_tf import build_model, pretrained
from seg_common.pretrained import Pretrained, save_weights

CONFIG = {"arch": "segnet_basic", "dropout": "central",
          "width_multiplier": 0.125, "num_classes": 4}


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    keras.utils.set_random_seed(3)
    model = build_model(**CONFIG)
    for layer in model.layers:   # non-trivial BN statistics
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.3))
            layer.moving_variance.assign(
                np.full(layer.moving_variance.shape, 2.5))
    digest, size = save_weights(model, str(tmp_path / "tiny.npz"))
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setitem(pretrained.PRETRAINED, "tiny", Pretrained(
        "tiny.npz", digest, CONFIG, "camvid", "test weights"))
    return model, tmp_path / "tiny.npz", size


def test_weights_by_name_rebuild_the_model(shipped):
    model, path, size = shipped
    n = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert size < 2 * n + 64 * 1024   # float16 kernels (+ zip overhead)
    loaded = build_model(weights="tiny")
    assert loaded.get_layer("conv1").filters == 8   # the entry's config
    with np.load(path) as stored:
        assert stored["conv1/kernel"].dtype == np.float16
        assert stored["conv1_bn/moving_variance"].dtype == np.float32
    images = np.random.default_rng(0).uniform(0, 255, (1, 24, 32, 3))
    images = images.astype(np.float32)
    want = np.asarray(model(images)["logits"])
    got = np.asarray(loaded(images)["logits"])
    # float16 kernels (11 significant bits) through nine conv layers.
    np.testing.assert_allclose(got, want, atol=2e-2 * np.abs(want).max())
    assert (got.argmax(-1) == want.argmax(-1)).mean() >= 0.99


def test_damaged_file_is_refused_by_hash(shipped):
    _, path, _ = shipped
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"tiny\.npz has SHA-256 .*reinstall"):
        build_model(weights="tiny")


def test_unknown_name_lists_the_shipped_ones(shipped):
    with pytest.raises(ValueError, match="available: .*tiny"):
        build_model(weights="camvid_everything")


def test_weights_of_another_architecture_name_the_variable(shipped):
    with pytest.raises(ValueError, match="shape"):
        build_model(weights="tiny", width_multiplier=0.25)
