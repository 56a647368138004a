"""A plain PyTorch SegNet / SegNet-Basic: the benchmark's outside yardstick.

The issue's speed targets compare this project against "a plain PyTorch
SegNet of the same architecture in the same run". This module builds that
network (the same layers, widths, pooling indices and dropout positions as
`bayesian_segnet_tf.build_model`, with PyTorch's stock modules and nothing
tuned) and times it the way a PyTorch user would run it: eager `nn.Module`
inference under `torch.inference_mode()`, float32, and bfloat16 autocast
with channels-last tensors.

PyTorch is optional (`pip install torch`); only `benchmark.py
--pytorch_reference` imports this module.
"""

import torch
from torch import nn

from bayesian_segnet_tf.config import dropout_units
from seg_common.backbones.vgg import VGG16_UNITS
from seg_common.benchmarking import best_time


def _conv_bn(c_in, c_out, kernel, relu=True):
    layers = [nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2),
              nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(
        *layers)


class TorchSegNet(nn.Module):
    """SegNet (VGG16 encoder, mirrored decoder) or SegNet-Basic.

    Args:
        arch: "segnet" or "segnet_basic".
        num_classes: classifier width.
        dropout: a `bayesian_segnet_tf` dropout variant; `nn.Dropout` after
            the same units (active only in `train()` mode, or in `mc` calls).
    """

    def __init__(self, arch="segnet", num_classes=11, dropout="central"):
        super().__init__()
        basic = arch == "segnet_basic"
        if basic:
            widths = [[64]] * 4
            kernel, relu_decoder = 7, False
        else:
            widths = [[f] * n for f, n in VGG16_UNITS]
            kernel, relu_decoder = 3, True
        self.norm = nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0) if basic else None
        self.encoder_drop, self.decoder_drop = dropout_units(dropout,
                                                            len(widths))
        self.encoders, self.decoders = nn.ModuleList(), nn.ModuleList()
        c_in = 3
        for unit_widths in widths:
            convs = []
            for width in unit_widths:
                convs.append(_conv_bn(c_in, width, kernel))
                c_in = width
            self.encoders.append(nn.Sequential(*convs))
        for unit in range(len(widths), 0, -1):
            unit_widths = widths[unit - 1]
            outs = unit_widths[:-1] + [widths[unit - 2][0] if unit > 1
                                       else unit_widths[0]]
            if unit == 1 and not basic:
                outs = outs[:-1]  # the classifier closes unit 1
            convs = []
            for width in outs:
                convs.append(_conv_bn(c_in, width, kernel, relu_decoder))
                c_in = width
            self.decoders.append(nn.Sequential(*convs))
        self.classifier = nn.Conv2d(c_in, num_classes, 1 if basic else 3,
                                    padding=0 if basic else 1)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x, mc=False):
        """x: (B, 3, H, W) -> logits (B, num_classes, H, W)."""
        drop = (lambda y: nn.functional.dropout(y, 0.5, True)) if mc else (
            self.dropout)
        if self.norm is not None:
            x = self.norm(x)
        skips = []
        for unit, encoder in enumerate(self.encoders, 1):
            x = encoder(x)
            size = x.shape[-2:]
            x, indices = nn.functional.max_pool2d(x, 2, 2, ceil_mode=True,
                                                  return_indices=True)
            skips.append((indices, size))
            if unit in self.encoder_drop:
                x = drop(x)
        for decoder, unit in zip(self.decoders,
                                 range(len(self.encoders), 0, -1)):
            indices, size = skips[unit - 1]
            x = nn.functional.max_unpool2d(x, indices, 2, 2, output_size=size)
            x = decoder(x)
            if unit in self.decoder_drop:
                x = drop(x)
        return self.classifier(x)


def benchmark_torch(arch="segnet", dropout="central", image_size=(360, 480),
                    batch_sizes=(1,), mc_samples=50, repeats=3, threads=None):
    """Inference images/s and T-pass MC seconds of the PyTorch SegNet.

    Args:
        arch, dropout: as `TorchSegNet`.
        image_size: (H, W).
        batch_sizes: inference batch sizes.
        mc_samples: T; the MC figure is T batch-1 passes with dropout on
            (the plain method: no shared prefix, no batching of samples).
        repeats: timed runs (the best is kept); MC is timed once.
        threads: `torch.set_num_threads` (default: PyTorch's own).

    Returns:
        dict keyed "float32" and "bfloat16_channels_last", each with
        `images_per_s_batch{B}` and, if mc_samples, `mc_seconds`.
    """
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = TorchSegNet(arch, dropout=dropout).eval()
    results = {}
    for name, channels_last in (("float32", False),
                                ("bfloat16_channels_last", True)):
        memory = torch.channels_last if channels_last else (
            torch.contiguous_format)
        net = model.to(memory_format=memory)
        autocast = torch.autocast("cpu", torch.bfloat16,
                                  enabled=channels_last)
        figures = {}
        with torch.inference_mode(), autocast:
            for batch in batch_sizes:
                x = torch.rand(batch, 3, *image_size).to(memory_format=memory)
                seconds = best_time(lambda: net(x), repeats)
                figures[f"images_per_s_batch{batch}"] = batch / seconds
            if mc_samples:
                x = torch.rand(1, 3, *image_size).to(memory_format=memory)
                figures["mc_seconds"] = best_time(
                    lambda: [net(x, mc=True) for _ in range(mc_samples)], 1)
        results[name] = figures
    return results
