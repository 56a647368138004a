"""The test contract every model package satisfies (see docs/API.md).

A model's test file subclasses `ModelContract` and sets `package`:

    class TestDeepLabContract(ModelContract):
        package = deeplab_tf

The tests build the package's "tiny" preset at small odd and even sizes.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

COMMON_FIELDS = (
    "num_classes", "input_shape", "base_learning_rate", "lr_schedule",
    "poly_power", "momentum", "weight_decay", "weight_decay_exclude",
    "lr_multipliers", "batch_size", "crop_size", "train_steps", "ignore_label",
    "min_scale_factor", "max_scale_factor", "scale_factor_step",
    "max_rotation_degrees", "flip")


class ModelContract:
    package = None          # the model package under test
    preset = "tiny"
    sizes = ((33, 47), (32, 48))

    @pytest.fixture(scope="class")
    def config(self):
        return self.package.PRESETS[self.preset]

    @pytest.fixture(scope="class")
    def model(self, config):
        keras.utils.set_random_seed(0)
        return self.package.build_model(config)

    def _images(self, size, batch=2, block=8):
        """Random colours constant on `block` x `block` tiles, so labels drawn
        from them are learnable by models that predict at a coarse stride."""
        rng = np.random.default_rng(1)
        tiles = rng.uniform(0, 255, (batch, -(-size[0] // block),
                                     -(-size[1] // block), 3))
        tiles = tiles.repeat(block, axis=1).repeat(block, axis=2)
        return tiles[:, :size[0], :size[1]].astype(np.float32)

    def test_exports_and_common_config_fields(self, config):
        for name in ("Config", "PRESETS", "build_model", "build_loss"):
            assert hasattr(self.package, name), name
        assert "tiny" in self.package.PRESETS
        assert dataclasses.is_dataclass(config)
        fields = {f.name for f in dataclasses.fields(config)}
        assert set(COMMON_FIELDS) <= fields, set(COMMON_FIELDS) - fields
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.num_classes = 3

    def test_unknown_override_names_the_field(self, config):
        with pytest.raises(TypeError, match="no_such_field"):
            self.package.build_model(config, no_such_field=1)

    def test_logits_at_input_resolution(self, model, config):
        for size in self.sizes:
            outputs = model(self._images(size), training=False)
            assert isinstance(outputs, dict) and "logits" in outputs
            assert tuple(outputs["logits"].shape) == (2, *size, config.num_classes)
            assert np.all(np.isfinite(np.asarray(outputs["logits"])))

    def test_keras_file_round_trip(self, model, tmp_path):
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
        images = self._images(self.sizes[0])
        want, got = model(images, training=False), loaded(images, training=False)
        assert set(want) == set(got)
        for key in want:
            np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]),
                                       atol=1e-5, rtol=1e-5)
        assert "Lambda" not in {l.__class__.__name__ for l in loaded.layers}

    def test_loss_ignores_ignore_label(self, model, config):
        loss_fn = self.package.build_loss(config)
        images = self._images(self.sizes[1])
        outputs = model(images, training=False)
        rng = np.random.default_rng(2)
        labels = rng.integers(0, config.num_classes, (2, *self.sizes[1]))
        terms = loss_fn(tf.constant(labels, tf.int32), outputs)
        assert np.isfinite(float(terms["loss"])) and float(terms["loss"]) > 0
        # Changing the logits only where the label is ignored leaves the
        # segmentation term unchanged.
        ignored = labels.copy()
        ignored[:, :5] = config.ignore_label
        shifted = dict(outputs)
        noise = np.zeros(outputs["logits"].shape, np.float32)
        noise[:, :5] = 100.0 * rng.normal(size=noise[:, :5].shape)
        shifted["logits"] = outputs["logits"] + noise
        seg = "seg_loss" if "seg_loss" in terms else "loss"
        a = loss_fn(tf.constant(ignored, tf.int32), outputs)[seg]
        b = loss_fn(tf.constant(ignored, tf.int32), shifted)[seg]
        np.testing.assert_allclose(float(a), float(b), rtol=1e-5)

    def test_training_steps_reduce_the_loss(self, config):
        keras.utils.set_random_seed(0)
        model = self.package.build_model(config)
        loss_fn = self.package.build_loss(config)
        images = tf.constant(self._images(self.sizes[1]))
        # Learnable labels: a function of the image's red channel.
        labels = tf.cast(images[..., 0] * config.num_classes / 256.0, tf.int32)
        optimizer = keras.optimizers.Adam(1e-3)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = loss_fn(labels, model(images, training=True))["loss"]
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        losses = [float(step()) for _ in range(15)]
        assert np.mean(losses[-3:]) < 0.9 * np.mean(losses[:3]), losses
