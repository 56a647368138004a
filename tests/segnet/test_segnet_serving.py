"""The exported MC dropout signature: shared prefix + chunked samples in the
graph, equal to full-network passes under the same dropout masks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from bayesian_segnet_tf import MonteCarloSampler, build_model, recompute_bn_statistics
from bayesian_segnet_tf.inference import SERVED_KEYS
from seg_common import export


@pytest.fixture(scope="module")
def model_and_images():
    keras.utils.set_random_seed(4)
    model = build_model(arch="segnet_basic", dropout="central",
                        width_multiplier=0.125, num_classes=5)
    images = np.random.default_rng(4).uniform(0, 255, (2, 24, 33, 3))
    images = images.astype(np.float32)
    recompute_bn_statistics(model, [images])
    return model, images


def _full_passes(model, images, num_samples, chunk_size, seed):
    """The reference: every sample runs the whole network (Python loop)."""
    sampler = MonteCarloSampler(model, num_samples, chunk_size,
                                shared_prefix=False)
    return sampler(images, seed=seed)


@pytest.mark.parametrize("num_samples, chunk_size", [(7, 3), (4, 10)])
def test_graph_outputs_equal_full_passes_with_the_same_masks(
        model_and_images, num_samples, chunk_size):
    model, images = model_and_images
    sampler = MonteCarloSampler(model, num_samples, chunk_size)
    sampler.reseed(3)
    got = tf.function(sampler.graph_outputs)(tf.constant(images))
    want = _full_passes(model, images, num_samples, chunk_size, seed=3)
    for key in SERVED_KEYS:
        np.testing.assert_allclose(got[key], want[key], atol=2e-4,
                                   err_msg=key)
    assert want["uncertainty"].max() > 1e-3  # the samples really differ


def test_exported_signature_serves_the_chunked_mc_statistics(
        model_and_images, tmp_path):
    model, images = model_and_images
    sampler = MonteCarloSampler(model, 5, chunk_size=2)
    sampler.reseed(8)   # the seed state is saved with the export
    export_dir = str(tmp_path / "saved")
    export.export_saved_model(
        sampler.model, export_dir,
        lambda _, batch: sampler.graph_outputs(batch))
    served = tf.saved_model.load(export_dir).signatures["serving_default"](
        images=tf.constant(images.round().astype(np.uint8)))
    want = _full_passes(model, images.round(), 5, 2, seed=8)
    for key in SERVED_KEYS:
        np.testing.assert_allclose(served[key], want[key], atol=2e-4,
                                   err_msg=key)
    np.testing.assert_array_equal(served["labels"], want["labels"])
