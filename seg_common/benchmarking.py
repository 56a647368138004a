"""Timing helpers for `scripts/benchmark.py`: machine peaks, model throughput, memory.

Every figure is a measurement on the running machine: best of `repeats` timed
runs after warm-up, so other load on the machine only makes figures worse.
"""

import collections
import resource
import time

import keras
import numpy as np
import tensorflow as tf

from seg_common.layers.traversal import iter_layers


def best_time(fn, repeats=5, warmup=1):
    """Returns the best wall time in seconds of `fn()` over `repeats` runs.

    `fn` must block until its work is done (return numpy or call `.numpy()`).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_peak(dtype="float32", size=2048, repeats=5):
    """Measured dense matmul throughput in FLOP/s (2 flops per multiply-add).

    Args:
        dtype: "float32" or "bfloat16".
        size: square matrix size.
        repeats: timed repetitions.

    Returns:
        float FLOP/s.
    """
    a = tf.random.normal((size, size), dtype=tf.float32)
    a = tf.cast(a, dtype)
    inner = 8

    @tf.function(jit_compile=False)
    def run(x):
        y = x
        for _ in range(inner):
            y = tf.matmul(y, x) * tf.cast(1.0 / size, dtype)
        return tf.reduce_sum(tf.cast(y, tf.float32))

    seconds = best_time(lambda: run(a).numpy(), repeats)
    return 2.0 * size ** 3 * inner / seconds


def conv_peak(dtype="float32", size=64, channels=256, batch=4, repeats=5):
    """Measured 3x3 convolution throughput in FLOP/s, NHWC.

    Args:
        dtype: "float32" or "bfloat16".
        size: spatial size of the square feature map.
        channels: input = output channels.
        batch: batch size.
        repeats: timed repetitions.

    Returns:
        float FLOP/s.
    """
    x = tf.cast(tf.random.normal((batch, size, size, channels)), dtype)
    k = tf.cast(tf.random.normal((3, 3, channels, channels)) * 0.02, dtype)
    inner = 4

    @tf.function
    def run(x):
        y = x
        for _ in range(inner):
            y = tf.nn.conv2d(y, k, 1, "SAME")
        return tf.reduce_sum(tf.cast(y, tf.float32))

    seconds = best_time(lambda: run(x).numpy(), repeats)
    macs = batch * size * size * channels * channels * 9 * inner
    return 2.0 * macs / seconds


def inference_throughput(model, image_size, batch_size, repeats=3,
                         jit_compile=False):
    """Images per second of `model(x, training=False)` on random 0..255 images.

    Args:
        model: a Keras model taking (B, H, W, 3) float images.
        image_size: (H, W).
        batch_size: B.
        repeats: timed repetitions (best is kept).
        jit_compile: compile the forward pass with XLA.

    Returns:
        float images per second.
    """
    @tf.function(jit_compile=jit_compile)
    def forward(x):
        return model(x, training=False)

    return function_throughput(forward, image_size, batch_size, repeats)


def function_throughput(forward, image_size, batch_size, repeats=3):
    """Images per second of `forward(x)["logits"]` on random 0..255 images.

    Args:
        forward: images float32 (B, H, W, 3) -> dict with "logits", e.g. a
            `seg_common.inference_graph.frozen_inference_function`.
        image_size: (H, W).
        batch_size: B.
        repeats: timed repetitions (best is kept).

    Returns:
        float images per second.
    """
    images = tf.random.uniform((batch_size, *image_size, 3), 0, 255)

    def run():
        return tf.reduce_sum(tf.cast(forward(images)["logits"],
                                     tf.float32)).numpy()

    return batch_size / best_time(run, repeats)


def training_throughput(model, loss_fn, image_size, batch_size, num_classes,
                        repeats=3, jit_compile=False):
    """Images per second of one SGD training step (forward, backward, update).

    The model's weights (batch-norm moving statistics included) are restored
    afterwards, so figures measured on it later are not skewed by the steps.

    Args:
        model: a Keras model returning a dict with "logits".
        loss_fn: the package's loss, `loss_fn(labels, outputs)["loss"]`.
        image_size: (H, W).
        batch_size: B.
        num_classes: for the random labels.
        repeats: timed repetitions (best is kept).
        jit_compile: compile the step with XLA.

    Returns:
        float images per second.
    """
    images = tf.random.uniform((batch_size, *image_size, 3), 0, 255)
    labels = tf.random.uniform((batch_size, *image_size), 0, num_classes,
                               tf.int32)
    optimizer = keras.optimizers.SGD(1e-6, momentum=0.9)

    @tf.function(jit_compile=jit_compile)
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))["loss"]
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    weights = model.get_weights()
    try:
        return batch_size / best_time(lambda: step().numpy(), repeats)
    finally:
        model.set_weights(weights)


def op_profile(forward, image_size, batch_size=1, top=12):
    """Time per op type of one traced run of a graph function (FULL_TRACE).

    Runs `forward.graph` (e.g. a `seg_common.inference_graph.
    frozen_inference_function`) in a TF1 session, warms it up twice, then
    traces one run and sums each executed node's elapsed time by op type.
    Ops run concurrently on several cores, so the op times may add up to
    more than the wall time; shares are of the summed op time.

    Args:
        forward: a function with a `.graph` taking float32 (B, H, W, 3).
        image_size: (H, W).
        batch_size: B.
        top: op types listed by name; the rest are summed as "other".

    Returns:
        dict: "wall_seconds" of the traced run, "op_seconds" (summed over
        ops), and "ops": [{"op", "nodes", "seconds", "share"}], slowest first.
    """
    graph_def = forward.graph.as_graph_def()
    op_types = {node.name: node.op for node in graph_def.node}
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    placeholder = next(n.name for n in graph_def.node if n.op == "Placeholder")
    fetches = [graph.get_tensor_by_name(t.name) for t in forward.graph.outputs]
    images = np.random.default_rng(0).uniform(
        0, 255, (batch_size, *image_size, 3)).astype(np.float32)
    feed = {f"{placeholder}:0": images}
    with tf.compat.v1.Session(graph=graph) as session:
        for _ in range(2):
            session.run(fetches, feed)
        metadata = tf.compat.v1.RunMetadata()
        options = tf.compat.v1.RunOptions(
            trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
        start = time.perf_counter()
        session.run(fetches, feed, options=options, run_metadata=metadata)
        wall = time.perf_counter() - start
    seconds, nodes = collections.Counter(), collections.Counter()
    for device in metadata.step_stats.dev_stats:
        for stats in device.node_stats:
            # The op that ran, after grappler's fusions (Conv2D + BiasAdd +
            # Relu -> _FusedConv2D): the label reads "name = Op(inputs)".
            label = stats.timeline_label
            op = (label.split(" = ", 1)[1].split("(")[0] if " = " in label
                  else op_types.get(stats.node_name, stats.node_name))
            if op in ("_SOURCE", "_Arg", "_Retval", "Const", "NoOp"):
                continue
            seconds[op] += stats.all_end_rel_micros * 1e-6
            nodes[op] += 1
    total = sum(seconds.values())
    ranked = seconds.most_common()
    rows = [{"op": op, "nodes": nodes[op], "seconds": t, "share": t / total}
            for op, t in ranked[:top]]
    rest = ranked[top:]
    if rest:
        t = sum(t for _, t in rest)
        rows.append({"op": "other", "nodes": sum(nodes[op] for op, _ in rest),
                     "seconds": t, "share": t / total})
    return {"wall_seconds": wall, "op_seconds": total, "ops": rows}


def conv_multiply_adds(model):
    """Multiply-adds of the Conv2D layers of a model with a fixed input size.

    Args:
        model: functional model whose Conv2D outputs have static H, W.

    Returns:
        int, `sum H_out * W_out * k_h * k_w * C_in * C_out` (batch 1).
    """
    total = 0
    for layer in iter_layers(model):
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            k_h, k_w, c_in, _ = layer.kernel.shape
            total += h * w * k_h * k_w * c_in * c_out
    return total


def peak_rss_gib():
    """The process's peak resident memory so far, in GiB (Linux ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def count_parameters(model):
    """(trainable, non-trainable) parameter counts."""
    def total(variables):
        return int(sum(np.prod(v.shape) for v in variables))
    return total(model.trainable_variables), total(model.non_trainable_variables)
