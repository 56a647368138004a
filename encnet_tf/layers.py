"""Model-only layers of EncNet: the Context Encoding Module pieces.

Reference: https://arxiv.org/abs/1803.08904 (Zhang et al., Context Encoding
for Semantic Segmentation, CVPR 2018).
"""

import keras
from keras import ops

from seg_common.layers import Encoding, InputNormalization, batch_norm
from seg_common.layers.encoding import encode
from seg_common.layers.validation import check_positive_int

from encnet_tf.config import AGGREGATIONS, ATTENTIONS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def image_normalization(name="normalization"):
    """RGB in 0..255 -> `(x / 255 - mean) / std` with the ImageNet statistics.

    Returns:
        An `InputNormalization`; (B, H, W, 3) -> (B, H, W, 3).
    """
    return standardization(IMAGENET_MEAN, IMAGENET_STD, name)


def standardization(mean, std, name="normalization"):
    """RGB in 0..255 -> `(x / 255 - mean) / std` for per-channel statistics
    of images in 0..1 (an `InputNormalization`)."""
    return InputNormalization(
        scale=[1.0 / (255.0 * s) for s in std],
        offset=[-m / s for m, s in zip(mean, std)], name=name)


@keras.saving.register_keras_serializable(package="encnet_tf")
class ContextEncoding(keras.layers.Layer):
    """Encoding layer -> BN over the codewords -> ReLU -> aggregation over K.

    The encoded vector `e` of the Context Encoding Module (paper Fig. 2):
    `E = Encoding(X)` (B, K, D); batch norm with one gamma/beta per codeword
    (axis 1, statistics over B and D; not one per channel); ReLU; then the sum
    (paper) or the mean (reference HEAD) over the K encoders. Runs in float32
    like the Encoding layer.

    Args:
        num_codes: K, the number of codewords.
        aggregation: "sum" (paper) or "mean" (reference code).
        momentum, epsilon: settings of the batch norm over K.
        **kwargs: `keras.layers.Layer` arguments.

    Input shape: (B, H, W, D). Output shape: (B, D), float32.

    Example:
    >>> e = ContextEncoding(32)(keras.ops.ones((2, 8, 8, 64)))
    >>> tuple(e.shape)
    (2, 64)

    Reference: https://arxiv.org/abs/1803.08904 (section 3.1)
    """

    def __init__(self, num_codes, aggregation="sum", momentum=0.9,
                 epsilon=1e-5, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if aggregation not in AGGREGATIONS:
            raise ValueError(
                f"`aggregation` must be one of {AGGREGATIONS}, got "
                f"{aggregation!r}.")
        self.num_codes = num_codes
        self.aggregation = aggregation
        self.momentum = momentum
        self.epsilon = epsilon
        self.encoding = Encoding(num_codes, name="encoding")
        self.codeword_bn = batch_norm(momentum, epsilon, axis=1,
                                      name="codeword_bn", dtype="float32")

    def build(self, input_shape):
        self.encoding.build(input_shape)
        self.codeword_bn.build((input_shape[0], self.num_codes,
                                input_shape[-1]))

    def call(self, inputs, training=None):
        encoded = self.encoding(inputs)                            # [B, K, D]
        encoded = ops.relu(self.codeword_bn(encoded, training=training))
        if self.aggregation == "sum":
            return ops.sum(encoded, axis=1)                        # [B, D]
        return ops.mean(encoded, axis=1)                           # [B, D]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(num_codes=self.num_codes, aggregation=self.aggregation,
                      momentum=self.momentum, epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable(package="encnet_tf")
class FeaturemapAttention(keras.layers.Layer):
    """Channel-wise attention of the Context Encoding Module: `X (x) gamma`.

    `gamma = sigmoid(W e)` is computed outside (a `Dense` layer); this layer
    broadcasts it over the spatial positions. "scale" is the paper's
    `Y = X * gamma`, "residual" the reference code's `Y = relu(X + X * gamma)`.

    Args:
        attention: "scale" (paper) or "residual" (reference code).
        **kwargs: `keras.layers.Layer` arguments.

    Input: `[x, gamma]`, x (B, H, W, C) and gamma (B, C).
    Output shape: (B, H, W, C).

    Example:
    >>> y = FeaturemapAttention()([keras.ops.ones((2, 4, 4, 8)),
    ...                            keras.ops.ones((2, 8)) * 0.5])
    >>> float(y[0, 0, 0, 0])
    0.5

    Reference: https://arxiv.org/abs/1803.08904 (section 3.1)
    """

    def __init__(self, attention="scale", **kwargs):
        super().__init__(**kwargs)
        if attention not in ATTENTIONS:
            raise ValueError(
                f"`attention` must be one of {ATTENTIONS}, got {attention!r}.")
        self.attention = attention

    def call(self, inputs):
        x, gamma = inputs
        scaled = x * ops.cast(gamma, x.dtype)[:, None, None, :]  # [B, H, W, C]
        if self.attention == "scale":
            return scaled
        return ops.relu(x + scaled)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(attention=self.attention)
        return config


@keras.saving.register_keras_serializable(package="encnet_tf")
class SmoothingDropEncoding(keras.layers.Layer):
    """Encoding layer with randomised smoothing factors (EncNet CIFAR, sec. 3.5).

    The paper's regulariser for the CIFAR-10 network ("EncodingDrop" in
    PyTorch-Encoding): the K smoothing factors are not learned; in training
    they are drawn afresh from U(-1, 0) at every call (one draw per batch),
    at evaluation they are fixed to `eval_smoothing` (-0.5, the middle of
    the range). Code sign convention: `a_ik = softmax_k(s_k ||x_i - c_k||^2)`
    (paper: `exp(-s_k ...)` with s in U(0, 1), fixed 0.5). The aggregation
    is the shared memory-efficient `seg_common.layers.encoding.encode`.

    Args:
        num_codes: K.
        eval_smoothing: the smoothing factor used outside training.
        seed: seed of the training-time draws.
        **kwargs: `keras.layers.Layer` arguments (dtype defaults to float32).

    Input shape: (B, H, W, D) or (B, N, D). Output shape: (B, K, D).
    Variables: `codewords` (K, D) ~ U(-1/sqrt(K*D), 1/sqrt(K*D)).

    Example:
    >>> tuple(SmoothingDropEncoding(16)(keras.ops.ones((2, 8, 8, 4))).shape)
    (2, 16, 4)

    Reference: https://arxiv.org/abs/1803.08904 (section 3.5)
    """

    def __init__(self, num_codes, eval_smoothing=-0.5, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_codes = check_positive_int("num_codes", num_codes)
        self.eval_smoothing = float(eval_smoothing)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        bound = 1.0 / (self.num_codes * input_shape[-1]) ** 0.5
        self.codewords = self.add_weight(
            name="codewords", shape=(self.num_codes, input_shape[-1]),
            initializer=keras.initializers.RandomUniform(-bound, bound),
            dtype="float32")

    def call(self, inputs, training=None):
        x = ops.cast(inputs, "float32")
        if len(x.shape) == 4:
            x = ops.reshape(x, (ops.shape(x)[0], -1, x.shape[-1]))  # [B, N, D]
        if training:
            scale = keras.random.uniform((self.num_codes,), -1.0, 0.0,
                                         seed=self.seed_generator)
        else:
            scale = ops.full((self.num_codes,), self.eval_smoothing)
        return encode(x, self.codewords, scale)                    # [B, K, D]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_codes, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(num_codes=self.num_codes,
                      eval_smoothing=self.eval_smoothing, seed=self.seed)
        return config
