"""Peak memory of EncNet's Encoding step at the paper's training size.

Run: `python -m tests.encnet.encoding_memory [batch] [num_pixels] [depth] [num_codes]`
(defaults 16 3600 512 32: batch 16, 60x60 features of a 480x480 crop).

Prints two figures for forward + backward of `ContextEncoding` (Encoding,
BN over K, ReLU, sum) in training mode, w.r.t. the input and the variables:
- the largest tensor of the traced graph (forward and gradient ops);
- the process peak-RSS growth while running the step: `VmHWM` after it
  (reset just before) minus `VmRSS` before it, with the inputs allocated
  and the graph traced, so neither is counted; ops run one at a time.
The naive (B, N, K, D) residual tensor alone would be B*N*K*D*4 bytes.
"""

import sys

import numpy as np
import tensorflow as tf

from encnet_tf.layers import ContextEncoding


def _status_mib(key):
    """A `/proc/self/status` memory figure (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    raise KeyError(key)


def _reset_peak_rss():
    """Resets VmHWM to the current RSS (Linux >= 4.0). `getrusage`'s
    ru_maxrss is not usable: it keeps the parent's peak across fork + exec."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


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
    _reset_peak_rss()
    before = _status_mib("VmRSS")
    for grad in step(x):
        grad.numpy()
    return {
        "input": batch * num_pixels * depth * 4 / 2 ** 20,
        "naive_residual": batch * num_pixels * num_codes * depth * 4 / 2 ** 20,
        "largest_graph_tensor": largest / 2 ** 20,
        "peak_rss_growth": _status_mib("VmHWM") - before,
    }


def main(argv):
    # Sequential op execution: the peak then does not depend on how the
    # scheduler happens to overlap the backward ops.
    tf.config.threading.set_inter_op_parallelism_threads(1)
    figures = measure(*(int(a) for a in argv[1:]))
    for key, value in figures.items():
        print(f"{key}: {value:.1f} MiB")


if __name__ == "__main__":
    main(sys.argv)
