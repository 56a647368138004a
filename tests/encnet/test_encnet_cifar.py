"""CIFAR-10 EncNet (paper section 3.5): sizes against Table 6, behaviour."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import encnet_tf
from encnet_tf.cifar import CIFAR_PRESETS


def _params(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("variant, paper_millions", [
    ("16k64d", 3.5), ("32k128d", 16.8)])
def test_parameter_count_matches_paper_table_6(variant, paper_millions):
    model = encnet_tf.build_cifar_model(variant=variant)
    assert abs(_params(model) / 1e6 - paper_millions) / paper_millions < 0.02


def test_fourteen_weighted_layers_and_module_on_every_block():
    model = encnet_tf.build_cifar_model(CIFAR_PRESETS["tiny"])
    weighted = [l for l in model.layers
                if isinstance(l, (keras.layers.Conv2D, keras.layers.Dense))
                and "_enc_" not in l.name and "shortcut" not in l.name]
    assert len(weighted) == 14
    encodings = [l for l in model.layers if l.name.endswith("_enc_encoding")]
    assert len(encodings) == 6


def test_encoded_vector_is_l2_normalised_concatenation():
    model = encnet_tf.build_cifar_model(variant="16k64d")
    probe = keras.Model(model.input,
                        model.get_layer("stage1_block1_enc_l2norm").output)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    e = np.asarray(probe(images.astype(np.float32), training=False))
    assert e.shape == (2, 16 * 64 // 4)       # K x C/4 concatenated
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-5)


def test_smoothing_regularisation_is_random_in_training_only():
    model = encnet_tf.build_cifar_model(CIFAR_PRESETS["tiny"])
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    images = images.astype(np.float32)
    eval_a, eval_b = (np.asarray(model(images, training=False)["logits"])
                      for _ in range(2))
    np.testing.assert_array_equal(eval_a, eval_b)
    train_a, train_b = (np.asarray(model(images, training=True)["logits"])
                        for _ in range(2))
    assert train_a.shape == (2, 10) and not np.allclose(train_a, train_b)


def test_a_few_training_steps_reduce_the_loss():
    keras.utils.set_random_seed(0)
    config = CIFAR_PRESETS["tiny"]
    model = encnet_tf.build_cifar_model(config)
    loss_fn = encnet_tf.build_cifar_loss(config)
    rng = np.random.default_rng(0)
    images = tf.constant(rng.uniform(0, 255, (8, 32, 32, 3)), tf.float32)
    labels = tf.constant(np.arange(8) % 10, tf.int32)
    optimizer = keras.optimizers.Adam(3e-3)

    def step():  # eager: tracing this small model costs more than running it
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))["loss"]
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    losses = [float(step()) for _ in range(8)]
    # Chance level is ln(10) = 2.30.
    assert abs(losses[0] - np.log(10)) < 1.0
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3]), losses


def test_keras_file_round_trip(tmp_path):
    model = encnet_tf.build_cifar_model(CIFAR_PRESETS["tiny"])
    model.save(tmp_path / "cifar.keras")
    loaded = keras.models.load_model(tmp_path / "cifar.keras", safe_mode=True)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    images = images.astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(loaded(images, training=False)["logits"]),
        np.asarray(model(images, training=False)["logits"]), atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="variant.*16k64d"):
        encnet_tf.build_cifar_model(variant="8k32d")
    with pytest.raises(TypeError, match="num_code"):
        encnet_tf.build_cifar_model(num_code=3)
    with pytest.raises(TypeError, match="must be a CifarConfig"):
        encnet_tf.build_cifar_model("16k64d")
    loss_fn = encnet_tf.build_cifar_loss(CIFAR_PRESETS["tiny"])
    with pytest.raises(ValueError, match="num_classes is 10"):
        loss_fn(tf.constant([1]), {"logits": tf.zeros((1, 100))})


def test_loss_is_the_weighted_cross_entropy():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], np.float32)
    labels = np.array([0, 1])
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -logp[np.arange(2), labels]
    config = encnet_tf.CifarConfig(variant="4k16d", num_classes=3)
    weights = [1.0, 3.0, 1.0]
    got = encnet_tf.build_cifar_loss(config, weights)(labels, {"logits": logits})
    np.testing.assert_allclose(float(got["loss"]), (ce[0] + 3 * ce[1]) / 2,
                               rtol=1e-5)


def test_cifar_module_follows_the_model_contract_names():
    from encnet_tf import cifar
    assert cifar.build_model is encnet_tf.build_cifar_model
    assert cifar.PRESETS["tiny"].variant == "4k16d"
    assert {"16k64d", "32k128d"} <= set(cifar.PRESETS)
