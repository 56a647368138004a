"""Peak memory of EncNet's Encoding step at the paper's training size.

Run: `python -m tests.encnet.encoding_memory [batch] [num_pixels] [depth] [num_codes]`
(defaults 16 3600 512 32: batch 16, 60x60 features of a 480x480 crop).

Prints two figures for forward + backward of `ContextEncoding` (Encoding,
BN over K, ReLU, sum) in training mode, w.r.t. the input and the variables:
- the largest tensor of the traced graph (forward and gradient ops);
- the process peak-RSS growth while running the step, over the resident
  size before it (inputs already allocated and the graph traced, so
  neither is counted).
The naive (B, N, K, D) residual tensor alone would be B*N*K*D*4 bytes.
"""

import resource
import sys

import numpy as np
import tensorflow as tf

from encnet_tf.layers import ContextEncoding

MIB = 2.0 ** 20


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / MIB


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(batch=16, num_pixels=3600, depth=512, num_codes=32):
    """Returns a dict of MiB figures (see the module docstring)."""
    layer = ContextEncoding(num_codes)
    layer.build((None, num_pixels, depth))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True))
        return tape.gradient(loss, [x] + layer.trainable_variables)

    spec = tf.TensorSpec((batch, num_pixels, depth), tf.float32)
    graph = step.get_concrete_function(spec).graph
    largest = max(np.prod(t.shape.as_list()) * t.dtype.size
                  for op in graph.get_operations() for t in op.outputs
                  if t.shape.is_fully_defined())
    x = tf.random.normal((batch, num_pixels, depth))
    before = _rss_mib()
    for grad in step(x):
        grad.numpy()
    return {
        "input": batch * num_pixels * depth * 4 / MIB,
        "naive_residual": batch * num_pixels * num_codes * depth * 4 / MIB,
        "largest_graph_tensor": largest / MIB,
        "peak_rss_growth": _peak_rss_mib() - before,
    }


def main(argv):
    figures = measure(*(int(a) for a in argv[1:]))
    for key, value in figures.items():
        print(f"{key}: {value:.1f} MiB")


if __name__ == "__main__":
    main(sys.argv)
