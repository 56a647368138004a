"""MCDropout: element-wise dropout that can stay on at inference (Monte Carlo dropout)."""

import keras

from seg_common.layers.traversal import iter_layers


@keras.saving.register_keras_serializable(package="seg_common")
class MCDropout(keras.layers.Layer):
    """Inverted element-wise dropout for Monte Carlo sampling (Gal & Ghahramani).

    Active when called with `training=True`, and also at inference when
    `sampling` is on: every element is zeroed with probability `rate` and the
    survivors are scaled by `1 / (1 - rate)`, with a fresh mask per call and
    per batch item. Only this layer sees the sampling switch, so batch norm
    stays in inference mode while sampling (never call the whole model with
    `training=True` to sample).

    `sampling` is read when a function is traced: after changing it with
    `set_mc_sampling`, re-trace compiled functions (`set_mc_sampling` resets
    the model's cached Keras functions itself).

    Args:
        rate: drop probability in [0, 1).
        sampling: keep dropout on at inference.
        seed: optional int seed of the layer's random stream.
        **kwargs: `keras.layers.Layer` arguments.

    Input shape: any. Output shape: same as input.

    Example:
    >>> drop = MCDropout(0.5, sampling=True)
    >>> y = drop(keras.ops.ones((2, 4)))   # zeros and 2.0s, at inference too
    """

    def __init__(self, rate, sampling=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"`rate` must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.sampling = bool(sampling)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=None):
        if self.rate == 0.0 or not (training or self.sampling):
            return inputs
        return keras.random.dropout(
            inputs, self.rate, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, sampling=self.sampling, seed=self.seed)
        return config


def set_mc_sampling(model, enabled):
    """Switches Monte Carlo sampling on or off for every `MCDropout` in `model`.

    Args:
        model: a `keras.Model` (nested models are searched too).
        enabled: bool.

    Returns:
        The number of `MCDropout` layers switched.
    """
    count = 0
    for layer in iter_layers(model):
        if isinstance(layer, MCDropout):
            layer.sampling = bool(enabled)
            count += 1
    model.predict_function = None
    model.test_function = None
    model.train_function = None
    return count
