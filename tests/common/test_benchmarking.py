"""seg_common.benchmarking: the timed training step leaves the model as it was."""

import _tiny
import numpy as np

from seg_common import benchmarking
from seg_common import inference_graph
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


def test_op_profile_traces_every_convolution_once():
    model = _tiny.build_model()
    forward, _ = inference_graph.frozen_inference_function(model, (1, 16, 16, 3))
    profile = benchmarking.op_profile(forward, (16, 16), top=2)
    convs = sum(row["nodes"] for row in profile["ops"] if "Conv2D" in row["op"])
    assert convs == 2  # the tiny model's body and head convolutions
    assert len(profile["ops"]) == 3 and profile["ops"][-1]["op"] == "other"
    assert np.isclose(sum(row["share"] for row in profile["ops"]), 1.0)
    assert np.isclose(sum(row["seconds"] for row in profile["ops"]),
                      profile["op_seconds"])
    assert profile["wall_seconds"] > 0
