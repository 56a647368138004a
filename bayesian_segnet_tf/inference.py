"""Monte Carlo dropout inference (Bayesian SegNet §3) with a fast sampling path.

The fast path keeps the sampled distribution exactly that of the paper's
method (T independent dropout masks, batch norm in inference mode):

- shared prefix: everything before the first dropout runs once per image;
  its outputs, pooling indices included (re-based per copy), are tiled over
  the samples of a chunk, and only the stochastic suffix runs per sample;
- samples run through the suffix as batches of `chunk_size` copies, and only
  running sums are kept, so memory does not grow with `num_samples`;
- `compute_dtype="bfloat16"` runs the network under `mixed_bfloat16`
  (dropout masks, softmax and statistics stay float32).
"""

import keras
import numpy as np
import tensorflow as tf

from bayesian_segnet_tf.mc_graph import split_at_dropout
from bayesian_segnet_tf.layers import LocalResponseNormalization
from seg_common.layers import MCDropout
from seg_common.layers.traversal import iter_layers

COMPUTE_DTYPES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
_FLOAT32_LAYERS = (MCDropout, LocalResponseNormalization)
_KEYS = ("probabilities", "labels", "variance", "uncertainty", "entropy",
         "mutual_information", "variation_ratio")
# What the exported SavedModel serves (the per-class variance is left out:
# (B, H, W, C) more to transfer for little use).
SERVED_KEYS = ("probabilities", "uncertainty", "entropy", "mutual_information",
               "variation_ratio")


def _sampling_copy(model, sampling, compute_dtype):
    """A copy of `model` (own weights) with dropout `sampling` on/off, run
    under the `compute_dtype` policy (dropout stays float32, so its masks
    equal the float32 model's for equal seeds)."""
    policy = COMPUTE_DTYPES[compute_dtype]

    def clone_layer(layer):
        config = layer.get_config()
        if isinstance(layer, MCDropout):
            config["sampling"] = sampling
        if not isinstance(layer, _FLOAT32_LAYERS):
            config["dtype"] = policy
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone_layer)
    copy.set_weights(model.get_weights())
    return copy


class MonteCarloSampler:
    """Reusable MC dropout predictor of a model (a snapshot of its weights).

    Args:
        model: a `build_model` model (any functional model with a "logits"
            output and `MCDropout` layers); it is never modified.
        num_samples: T >= 0; 0 = weight averaging (dropout off, one pass).
        chunk_size: samples per batch through the network (memory bound).
        shared_prefix: compute the part before the first dropout once per
            image (the fast path); False samples the whole network T times.
        compute_dtype: "float32" or "bfloat16" (mixed precision).

    Call: `sampler(images, seed=None)` -> dict, see `mc_predict`.
    """

    def __init__(self, model, num_samples=50, chunk_size=10,
                 shared_prefix=True, compute_dtype="float32"):
        if isinstance(num_samples, bool) or not isinstance(
                num_samples, int) or num_samples < 0:
            raise ValueError(f"`num_samples` must be an integer >= 0, got "
                             f"{num_samples!r}.")
        if isinstance(chunk_size, bool) or not isinstance(
                chunk_size, int) or chunk_size < 1:
            raise ValueError(f"`chunk_size` must be an integer >= 1, got "
                             f"{chunk_size!r}.")
        if compute_dtype not in COMPUTE_DTYPES:
            raise ValueError(f"`compute_dtype` must be one of "
                             f"{', '.join(COMPUTE_DTYPES)}; got "
                             f"{compute_dtype!r}.")
        self.num_samples = num_samples
        self.chunk_size = chunk_size
        self.model = _sampling_copy(model, num_samples > 0, compute_dtype)
        self.dropout_layers = [
            layer for layer in iter_layers(self.model)
            if isinstance(layer, MCDropout)]
        if num_samples == 0:
            self._chunk = tf.function(self._deterministic)
            return
        if shared_prefix:
            self.prefix, self.suffix, self.index_links = split_at_dropout(
                self.model)
            self._prefix = tf.function(self.prefix)
            self._chunk_logits = self._suffix_chunk
        else:
            self.prefix = None
            self._chunk_logits = self._full_chunk
        self._chunk = tf.function(
            lambda shared, size: _sample_sums(self._chunk_logits(shared, size)))
        self._chunk_probabilities = tf.function(
            lambda shared, size: tf.nn.softmax(tf.cast(
                self._chunk_logits(shared, size), tf.float32)))

    def __call__(self, images, seed=None):
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank != 4:
            raise ValueError(f"`images` must have shape (B, H, W, 3), got "
                             f"{tuple(images.shape)}.")
        if seed is not None:
            self.reseed(seed)
        per_image = [self._predict_one(images[i:i + 1])
                     for i in range(images.shape[0])]
        return {key: np.concatenate([p[key] for p in per_image])
                for key in _KEYS}

    def sample_probabilities(self, image, seed=None):
        """The softmax of every sample of one image, unreduced.

        Args:
            image: float32 (1, H, W, 3), 0..255.
            seed: optional int (see `reseed`).

        Returns:
            float32 NumPy array (T, H, W, C), samples in draw order.
        """
        if self.num_samples == 0:
            raise ValueError("sample_probabilities needs num_samples >= 1.")
        if seed is not None:
            self.reseed(seed)
        shared = self._shared(tf.convert_to_tensor(image, tf.float32))
        return np.concatenate([
            self._chunk_probabilities(
                shared, min(self.chunk_size, self.num_samples - start)).numpy()
            for start in range(0, self.num_samples, self.chunk_size)])

    def reseed(self, seed):
        """Sets every dropout layer's random stream from the int `seed`."""
        states = np.random.SeedSequence(seed).generate_state(
            len(self.dropout_layers), np.uint32).astype(np.int64)
        for layer, state in zip(self.dropout_layers, states):
            layer.seed_generator.state.assign(np.array([state, 0], np.int64))

    def warm_up(self, images):
        """Traces the sampling functions: one image, each chunk size used."""
        image = tf.convert_to_tensor(images, tf.float32)[:1]
        if self.num_samples == 0:
            self._chunk(image)
            return
        shared = self._shared(image)
        sizes = {min(self.chunk_size, self.num_samples),
                 self.num_samples % self.chunk_size}
        for size in sizes - {0}:
            self._chunk(shared, size)

    def _shared(self, image):
        return (image,) if self.prefix is None else tuple(
            tf.nest.flatten(self._prefix(image)))

    def _predict_one(self, image):
        """(1, H, W, 3) -> dict of (1, H, W[, C]) NumPy arrays."""
        if self.num_samples == 0:
            return _finalise(self._chunk(image), 1)
        shared = self._shared(image)
        sums = None
        for start in range(0, self.num_samples, self.chunk_size):
            size = min(self.chunk_size, self.num_samples - start)
            part = self._chunk(shared, size)
            sums = part if sums is None else [a + b for a, b in zip(sums, part)]
        return _finalise(sums, self.num_samples)

    def graph_outputs(self, images, keys=SERVED_KEYS):
        """MC statistics of a batch inside a graph (for SavedModel serving).

        The same computation as calling the sampler (shared prefix once per
        image, samples in chunks of `chunk_size` with running sums), as
        TensorFlow ops traceable by `tf.function`: images one at a time,
        chunks in a sequential `tf.while_loop`, so peak memory is one
        chunk's activations whatever `num_samples` and the batch size.

        Args:
            images: float32 (B, H, W, 3), 0..255.
            keys: which `mc_predict` maps to return.

        Returns:
            dict key -> float32 tensor, (B, H, W, C) for "probabilities" and
            "variance", (B, H, W) for the others.
        """
        if self.num_samples == 0:
            raise ValueError("graph_outputs needs num_samples >= 1.")
        signature = {key: tf.TensorSpec(None, tf.float32) for key in keys}

        def one_image(image):
            stats = _statistics(self._graph_sums(image[None]),
                                self.num_samples)
            return {key: tf.cast(stats[key], tf.float32) for key in keys}

        return tf.map_fn(one_image, images, fn_output_signature=signature,
                         parallel_iterations=1)

    def _graph_sums(self, image):
        """Running sums of T samples of one image (1, H, W, 3), in-graph.

        Chunk sizes are Python ints, so every tensor has a static shape: the
        first chunk, the other full chunks in a sequential `tf.while_loop`,
        then the remainder (the same draw order as the eager path).
        """
        shared = self._shared(image)
        full_chunks, remainder = divmod(self.num_samples, self.chunk_size)
        sums = self._chunk(shared, min(self.chunk_size, self.num_samples))
        if full_chunks > 1:
            def body(i, sums):
                part = self._chunk(shared, self.chunk_size)
                return i + 1, [a + b for a, b in zip(sums, part)]

            _, sums = tf.while_loop(
                lambda i, _: i < full_chunks, body, (tf.constant(1), sums),
                parallel_iterations=1)
        if full_chunks and remainder:
            sums = [a + b for a, b in zip(sums, self._chunk(shared, remainder))]
        return sums

    def _deterministic(self, image):
        return _sample_sums(self.model(image)["logits"])

    def _full_chunk(self, shared, size):
        """Logits (size, H, W, C) of `size` samples of the whole network."""
        (image,) = shared
        copies = tf.repeat(image, size, axis=0)  # [size, H, W, 3]
        return self.model(copies)["logits"]

    def _suffix_chunk(self, shared, size):
        """Logits (size, H, W, C) of `size` samples of the suffix."""
        copies = [tf.repeat(t, size, axis=0) for t in shared]
        for i, j in self.index_links:
            # Indices of copy n must point into copy n: add n * H*W*C.
            per_item = tf.reduce_prod(tf.shape(shared[j], out_type=tf.int64))
            offsets = tf.range(tf.cast(size, tf.int64)) * per_item
            copies[i] = shared[i] + tf.reshape(offsets, (-1, 1, 1, 1))
        return self.suffix(copies)["logits"]


def _sample_sums(logits):
    """Running sums over the samples (axis 0) of one chunk, float32."""
    probs = tf.nn.softmax(tf.cast(logits, tf.float32))  # [T, H, W, C]
    log_probs = tf.math.log(tf.maximum(probs, 1e-30))
    votes = tf.one_hot(tf.argmax(probs, -1), tf.shape(probs)[-1])
    return [tf.reduce_sum(probs, 0), tf.reduce_sum(tf.square(probs), 0),
            tf.reduce_sum(votes, 0),
            tf.reduce_sum(-tf.reduce_sum(probs * log_probs, -1), 0)]


def _statistics(sums, num_samples):
    """The MC maps of one image from its running sums, as float32 tensors.

    Args:
        sums: `_sample_sums` totals over the T samples: sum of p, of p^2
            (H, W, C), of votes (H, W, C), of per-sample entropy (H, W).
        num_samples: T.

    Returns:
        dict of `_KEYS`: (H, W, C) "probabilities", "variance"; (H, W)
        "labels" (int32) and the scalar uncertainty maps.
    """
    sum_p, sum_p2, votes, sum_entropy = (tf.cast(s, tf.float32) for s in sums)
    t = tf.cast(num_samples, tf.float32)
    mean = sum_p / t
    # ddof 0; float32 like the sums, so one sample gives exactly 0.
    variance = tf.maximum(sum_p2 / t - tf.square(mean), 0.0)
    entropy = -tf.reduce_sum(mean * tf.math.log(tf.maximum(mean, 1e-30)), -1)
    return {
        "probabilities": mean,
        "labels": tf.argmax(mean, -1, output_type=tf.int32),
        "variance": variance,
        "uncertainty": tf.reduce_mean(variance, -1),
        "entropy": entropy,
        "mutual_information": tf.maximum(entropy - sum_entropy / t, 0.0),
        "variation_ratio": 1.0 - tf.reduce_max(votes, -1) / t,
    }


def _finalise(sums, num_samples):
    """`_statistics` as NumPy arrays with a leading batch axis of 1."""
    return {key: np.asarray(value)[None]
            for key, value in _statistics(sums, num_samples).items()}


def mc_predict(model: keras.Model, images, num_samples: int = 50,
               seed: int | None = None, chunk_size: int = 10,
               shared_prefix: bool = True,
               compute_dtype: str = "float32") -> dict[str, np.ndarray]:
    """Monte Carlo dropout prediction (Bayesian SegNet's test procedure).

    Batch norm stays in inference mode, every dropout layer draws an
    independent mask per sample; the prediction is the mean softmax.

    Args:
        model: a `build_model` model (not modified).
        images: float32 RGB 0..255, (B, H, W, 3).
        num_samples: T (paper: 50); 0 = weight averaging (one deterministic
            pass, zero variance).
        seed: optional int making the dropout masks reproducible.
        chunk_size, shared_prefix, compute_dtype: see `MonteCarloSampler`.

    Returns:
        dict of NumPy arrays: `probabilities` (B,H,W,C) mean softmax,
        `labels` (B,H,W) int32, `variance` (B,H,W,C) per-class population
        variance, `uncertainty` (B,H,W) its mean over classes (the paper's),
        `entropy` (B,H,W) predictive entropy, `mutual_information` (B,H,W),
        `variation_ratio` (B,H,W) = 1 - (votes of the modal label) / T.

    Example:
    >>> out = mc_predict(model, images, num_samples=50, seed=0)
    >>> out["uncertainty"].shape   # (B, H, W)

    Reference: https://arxiv.org/abs/1511.02680
    """
    sampler = MonteCarloSampler(model, num_samples, chunk_size, shared_prefix,
                                compute_dtype)
    return sampler(images, seed=seed)
