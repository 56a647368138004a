"""Encoding: the residual-encoding layer of EncNet (Zhang et al., 2018)."""

import math

import keras
from keras import ops

from seg_common.layers.validation import check_positive_int, check_rank


def encode(x, codewords, scale):
    """The Encoding-layer formula in its memory-efficient form.

    Args:
        x: (B, N, D) descriptors.
        codewords: (K, D).
        scale: (K,) smoothing factors.

    Returns:
        (B, K, D) aggregated residuals `E_k = sum_i a_ik (x_i - c_k)`.
    """
    x_sq = ops.sum(ops.square(x), axis=-1, keepdims=True)        # [B, N, 1]
    c_sq = ops.sum(ops.square(codewords), axis=-1)               # [K]
    x_dot_c = ops.einsum("bnd,kd->bnk", x, codewords)            # [B, N, K]
    distances = x_sq - 2.0 * x_dot_c + c_sq                      # [B, N, K]
    assign = ops.softmax(distances * scale, axis=-1)             # [B, N, K]
    weighted_x = ops.einsum("bnk,bnd->bkd", assign, x)           # [B, K, D]
    mass = ops.sum(assign, axis=1)[..., None]                    # [B, K, 1]
    return weighted_x - mass * codewords                         # [B, K, D]


@keras.saving.register_keras_serializable(package="seg_common")
class Encoding(keras.layers.Layer):
    """Learns `num_codes` codewords and aggregates soft-assigned residuals.

    For descriptors `x_i` (i = 1..N) of dimension D, codewords `c_k` and
    smoothing factors `s_k` (k = 1..K):

        r_ik = x_i - c_k
        a_ik = softmax_k(s_k * ||r_ik||^2)
        e_k  = sum_i a_ik * r_ik

    The code convention of PyTorch-Encoding is kept: no minus sign in the
    exponent and `s_k` initialised in U(-1, 0) (the paper's `exp(-s_k ...)`
    with `s_k = -S_k`).

    Memory: the (B, N, K, D) residual tensor is never formed. Distances use
    `||r_ik||^2 = ||x_i||^2 - 2 x_i.c_k + ||c_k||^2` (one (B, N, K) einsum) and
    `E = A^T X - diag(sum_i a_ik) C`, so memory is O(B*N*K + B*K*D).

    The layer always computes in float32, also under a mixed-precision policy,
    because the norm expansion cancels badly in 16-bit floats.

    Args:
        num_codes: K, the number of codewords.
        **kwargs: `keras.layers.Layer` arguments (`dtype` defaults to float32).

    Input shape: (B, H, W, D) or (B, N, D). Output shape: (B, K, D), float32.

    Variables: `codewords` (K, D) ~ U(-1/sqrt(K*D), 1/sqrt(K*D));
    `scale` (K,) ~ U(-1, 0), the smoothing factors.

    Example:
    >>> enc = Encoding(32)
    >>> tuple(enc(keras.ops.ones((2, 60, 60, 512))).shape)
    (2, 32, 512)

    Reference: https://arxiv.org/abs/1803.08904
    """

    def __init__(self, num_codes, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_codes = check_positive_int("num_codes", num_codes)

    def build(self, input_shape):
        check_rank("inputs", input_shape, (3, 4))
        depth = input_shape[-1]
        if depth is None:
            raise ValueError("`inputs` must have a known last dimension D.")
        bound = 1.0 / math.sqrt(self.num_codes * depth)
        self.codewords = self.add_weight(
            name="codewords", shape=(self.num_codes, depth),
            initializer=keras.initializers.RandomUniform(-bound, bound),
            dtype="float32")
        self.scale = self.add_weight(
            name="scale", shape=(self.num_codes,),
            initializer=keras.initializers.RandomUniform(-1.0, 0.0),
            dtype="float32")

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if len(x.shape) == 4:
            x = ops.reshape(x, (ops.shape(x)[0], -1, x.shape[-1]))  # [B, N, D]
        return encode(x, self.codewords, self.scale)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_codes, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(num_codes=self.num_codes)
        return config
