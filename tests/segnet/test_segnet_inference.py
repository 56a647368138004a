"""mc_predict: the paper's MC procedure and the exact fast path."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from bayesian_segnet_tf import PRESETS, build_model, mc_predict, recompute_bn_statistics
from seg_common.layers import InputNormalization
from seg_common.layers import MCDropout


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(5)
    model = build_model(PRESETS["tiny"])
    rng = np.random.default_rng(5)
    recompute_bn_statistics(model, [rng.uniform(0, 255, (2, 45, 61, 3)).astype(
        np.float32)])
    return model


def _images(batch=2, size=(45, 61), seed=7):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (batch, *size, 3)).astype(np.float32)


@pytest.mark.parametrize("arch,dropout", [("segnet_basic", "central"),
                                          ("segnet", "central"),
                                          ("segnet", "classifier")])
def test_shared_prefix_equals_full_passes_with_the_same_masks(arch, dropout):
    keras.utils.set_random_seed(2)
    model = build_model(arch=arch, dropout=dropout, width_multiplier=0.125,
                        num_classes=5)
    images = _images(size=(24, 33))
    recompute_bn_statistics(model, [images])
    # Same seed -> the same dropout masks in both paths (2 images: the tiled
    # pooling indices must be re-based per copy, 3 chunks incl. a short one).
    fast = mc_predict(model, images, 7, seed=3, chunk_size=3)
    full = mc_predict(model, images, 7, seed=3, chunk_size=3,
                      shared_prefix=False)
    # Exact up to float32 rounding: with TF_ENABLE_ONEDNN_OPTS=1 oneDNN picks
    # its convolution kernels by batch size, so the two paths round
    # differently (up to ~4e-5 in probability), far below what a differing
    # dropout mask changes.
    for key in fast:
        np.testing.assert_allclose(fast[key], full[key], atol=2e-4, err_msg=key)
    assert fast["uncertainty"].max() > 1e-3  # the samples really differ


def test_statistics_match_numpy_with_reproduced_masks(rng):
    # x -> flip -> MCDropout -> 1x1 conv: the masks are reproduced with
    # keras.random.dropout from the state mc_predict's seed gives the layer.
    inputs = keras.Input((3, 4, 3))
    x = InputNormalization(reverse_channels=True)(inputs)
    x = MCDropout(0.5, name="drop")(x)
    logits = keras.layers.Conv2D(4, 1, name="classifier")(x)
    model = keras.Model(inputs, {"logits": logits})
    images = rng.uniform(0, 3, (1, 3, 4, 3)).astype(np.float32)
    out = mc_predict(model, images, num_samples=5, seed=11, chunk_size=2)
    state = np.random.SeedSequence(11).generate_state(1, np.uint32)
    generator = keras.random.SeedGenerator(0)
    generator.state.assign(np.array([state[0], 0], np.int64))
    kernel, bias = model.get_layer("classifier").get_weights()
    probs = []
    for size in (2, 2, 1):
        bgr = np.repeat(images[..., ::-1], size, 0)
        dropped = np.asarray(keras.random.dropout(
            tf.constant(bgr), 0.5, seed=generator))
        z = dropped @ kernel[0, 0] + bias
        e = np.exp(z - z.max(-1, keepdims=True))
        probs.append(e / e.sum(-1, keepdims=True))
    p = np.concatenate(probs)  # [T, H, W, C]
    mean = p.mean(0)
    entropy = -(mean * np.log(mean)).sum(-1)
    votes = np.eye(4)[p.argmax(-1)].sum(0).max(-1)
    want = {"probabilities": mean, "labels": mean.argmax(-1),
            "variance": p.var(0), "uncertainty": p.var(0).mean(-1),
            "entropy": entropy,
            "mutual_information": entropy + (p * np.log(p)).sum(-1).mean(0),
            "variation_ratio": 1 - votes / 5}
    for key, value in want.items():
        np.testing.assert_allclose(out[key][0], value, atol=1e-5, err_msg=key)


def test_weight_averaging_is_the_deterministic_model(tiny):
    images = _images()
    out = mc_predict(tiny, images, num_samples=0)
    want = tf.nn.softmax(tiny(images, training=False)["logits"]).numpy()
    np.testing.assert_allclose(out["probabilities"], want, atol=1e-5)
    np.testing.assert_array_equal(out["labels"], want.argmax(-1))
    assert out["uncertainty"].max() == 0 and out["variation_ratio"].max() == 0


def test_sampling_leaves_the_model_untouched_and_draws_differ(tiny):
    before = [w.numpy().copy() for w in tiny.weights]
    images = _images(batch=1)
    a = mc_predict(tiny, images, num_samples=4)
    b = mc_predict(tiny, images, num_samples=4)
    for w, old in zip(tiny.weights, before):  # BN moving statistics included
        np.testing.assert_array_equal(w.numpy(), old)
    assert not any(l.sampling for l in tiny.layers if isinstance(l, MCDropout))
    assert np.abs(a["probabilities"] - b["probabilities"]).max() > 1e-3
    assert (a["variance"] > 0).mean() > 0.9  # samples differ per draw
    again = mc_predict(tiny, images, num_samples=4, seed=1)
    np.testing.assert_allclose(
        mc_predict(tiny, images, num_samples=4, seed=1)["probabilities"],
        again["probabilities"], atol=1e-6)  # a seed reproduces the masks


def test_shapes_at_odd_size(tiny):
    out = mc_predict(tiny, _images(batch=1, size=(23, 45)), num_samples=3)
    assert out["probabilities"].shape == (1, 23, 45, 11)
    for key in ("labels", "uncertainty", "entropy", "mutual_information",
                "variation_ratio"):
        assert out[key].shape == (1, 23, 45), key
    np.testing.assert_allclose(out["probabilities"].sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    ({"num_samples": -1}, "num_samples"), ({"chunk_size": 0}, "chunk_size"),
    ({"compute_dtype": "float16"}, "float32, bfloat16")])
def test_bad_arguments(tiny, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mc_predict(tiny, _images(batch=1), **kwargs)


def test_model_without_dropout_cannot_be_sampled():
    model = build_model(PRESETS["tiny"], dropout="none")
    with pytest.raises(ValueError, match="MCDropout"):
        mc_predict(model, _images(batch=1), num_samples=2)
