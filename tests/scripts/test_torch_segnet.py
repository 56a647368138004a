"""The PyTorch yardstick of the benchmark (scripts/_torch_segnet.py) is the same network as ours.

Oracles: the Keras model's trainable parameter count (the prototxt counts of
the issue) and output shapes at the odd CamVid size (pooling indices with
ceil-mode pooling, 45 -> 23).
"""

import pytest

torch = pytest.importorskip("torch")  # the `bench` extra; CI installs it

import bayesian_segnet_tf  # noqa: E402
import _torch_segnet as torch_reference  # noqa: E402


@pytest.mark.parametrize("arch, count", [("segnet", 29_449_355),
                                         ("segnet_basic", 1_416_587)])
def test_parameter_count_matches_the_keras_model(arch, count):
    net = torch_reference.TorchSegNet(arch, num_classes=11)
    assert sum(p.numel() for p in net.parameters()) == count
    keras_model = bayesian_segnet_tf.build_model(arch=arch, num_classes=11)
    keras_count = sum(int(v.numpy().size)
                      for v in keras_model.trainable_variables)
    assert keras_count == count


def test_dropout_positions_and_shapes_at_an_odd_size():
    net = torch_reference.TorchSegNet("segnet_basic", num_classes=11,
                                      dropout="central").eval()
    x = torch.rand(2, 3, 45, 61)
    with torch.inference_mode():
        deterministic = [net(x) for _ in range(2)]
        sampled = [net(x, mc=True) for _ in range(2)]
    assert deterministic[0].shape == (2, 11, 45, 61)
    assert torch.equal(deterministic[0], deterministic[1])
    assert not torch.equal(sampled[0], sampled[1])
    assert (net.encoder_drop, net.decoder_drop) == ({3, 4}, {3, 4})


def test_benchmark_reports_both_precisions():
    figures = torch_reference.benchmark_torch(
        "segnet_basic", image_size=(24, 32), batch_sizes=(1, 2),
        mc_samples=3, repeats=1, threads=1)
    for precision in ("float32", "bfloat16_channels_last"):
        assert figures[precision]["images_per_s_batch1"] > 0
        assert figures[precision]["images_per_s_batch2"] > 0
        assert figures[precision]["mc_seconds"] > 0
