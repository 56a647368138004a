"""Max pooling that records argmax indices, and max unpooling that uses them (SegNet)."""

import keras
import tensorflow as tf

from seg_common.layers.validation import check_rank


def _ceil_half(d):
    return None if d is None else -(-d // 2)


@keras.saving.register_keras_serializable(package="seg_common")
class MaxPoolWithArgmax2D(keras.layers.Layer):
    """2x2 max pooling with stride 2 in ceil mode, returning the argmax indices.

    Caffe-SegNet semantics: odd sizes round up (45 -> 23; the last window is
    partial), the first maximum in raster order wins ties, and each index is
    the flat position in the pooled tensor including the batch,
    `((b * H + y) * W + x) * C + c`, as int64 (never cast to float: the values
    exceed 2**24).

    This layer is TensorFlow-only (`tf.nn.max_pool_with_argmax`).

    Input shape: (B, H, W, C).
    Output: `(values, indices)`, both (B, ceil(H/2), ceil(W/2), C); indices int64.

    Example:
    >>> values, indices = MaxPoolWithArgmax2D()(keras.ops.ones((1, 45, 60, 8)))
    >>> tuple(values.shape)
    (1, 23, 30, 8)

    Reference: https://arxiv.org/abs/1511.00561
    """

    def build(self, input_shape):
        check_rank("inputs", input_shape, (4,))

    def call(self, inputs):
        return tf.nn.max_pool_with_argmax(
            inputs, ksize=2, strides=2, padding="SAME",
            output_dtype=tf.int64, include_batch_in_index=True)

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0], _ceil_half(input_shape[1]),
                 _ceil_half(input_shape[2]), input_shape[3])
        return shape, shape

    def compute_output_spec(self, inputs):
        shape, _ = self.compute_output_shape(inputs.shape)
        return (keras.KerasTensor(shape, dtype=inputs.dtype),
                keras.KerasTensor(shape, dtype="int64"))


@keras.saving.register_keras_serializable(package="seg_common")
class MaxUnpool2D(keras.layers.Layer):
    """Writes each pooled value back at its recorded argmax position.

    Called on `[values, indices, pooled_input]`: `values` and `indices` come
    from `MaxPoolWithArgmax2D`, and `pooled_input` is the tensor that was
    pooled, which only gives the output shape, so 45 -> 23 -> 45 round-trips
    (not 46). Every other position is zero. The gradient reaches `values`
    only, at the indexed positions.

    Input: `[values (B, h, w, C), indices int64 (B, h, w, C), x (B, H, W, C)]`.
    Output shape: (B, H, W, C), the dtype of `values`.

    Example:
    >>> x = keras.ops.ones((1, 45, 60, 8))
    >>> values, indices = MaxPoolWithArgmax2D()(x)
    >>> tuple(MaxUnpool2D()([values, indices, x]).shape)
    (1, 45, 60, 8)
    """

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3:
            raise ValueError(
                "`inputs` must be a list [values, indices, pooled_input].")
        for name, shape in zip(("values", "indices", "pooled_input"),
                               input_shape):
            check_rank(name, shape, (4,))

    def call(self, inputs):
        values, indices, like = inputs
        if indices.dtype != tf.int64:
            raise ValueError(
                f"`indices` must be int64 (from MaxPoolWithArgmax2D), got "
                f"{indices.dtype.name}.")
        out_shape = tf.shape(like, out_type=tf.int64)
        flat = tf.scatter_nd(
            tf.reshape(indices, (-1, 1)), tf.reshape(values, (-1,)),
            shape=tf.reduce_prod(out_shape)[None])
        return tf.reshape(flat, out_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[2][:3]) + (input_shape[0][3],)

    def compute_output_spec(self, inputs):
        values, indices, like = inputs
        if indices.dtype != "int64":
            raise ValueError(
                f"`indices` must be int64 (from MaxPoolWithArgmax2D), got "
                f"{indices.dtype}.")
        shape = self.compute_output_shape([values.shape, None, like.shape])
        return keras.KerasTensor(shape, dtype=values.dtype)
