"""seg_common.benchmarking: the timed training step leaves the model as it was."""

import _tiny
import numpy as np

from seg_common import benchmarking
from seg_common import losses


def test_training_throughput_restores_weights_and_batch_norm_statistics():
    model = _tiny.build_model()
    before = [np.copy(w) for w in model.get_weights()]

    def loss_fn(labels, outputs):
        return {"loss": losses.masked_cross_entropy(labels, outputs["logits"])}

    ips = benchmarking.training_throughput(model, loss_fn, (8, 8), 2, 3,
                                           repeats=1)
    assert ips > 0
    after = model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
