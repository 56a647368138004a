"""TensorBoard summaries: scalars and coloured image panels."""

import numpy as np
import tensorflow as tf

from seg_common.training import visualize


def write_scalars(writer, step, values, prefix=""):
    """Writes a dict of scalars under `prefix` (NaN values are skipped)."""
    with writer.as_default(step=step):
        for name, value in values.items():
            value = float(value)
            if not np.isnan(value):
                tf.summary.scalar(prefix + name, value)


def write_images(writer, step, images, labels, outputs, colormap,
                 max_outputs=3):
    """Writes input, ground truth, prediction (+ uncertainty) image panels.

    Args:
        writer: a `tf.summary` writer.
        step: global step.
        images: float (B, H, W, 3) 0..255.
        labels: int (B, H, W).
        outputs: dict of arrays from a predictor: "labels" (B, H, W) and
            optionally "uncertainty" (B, H, W).
        colormap: (C, 3) uint8 dataset colour map.
        max_outputs: number of examples shown.
    """
    n = min(max_outputs, len(images))
    panels = {
        "input": np.clip(np.asarray(images[:n]), 0, 255).astype(np.uint8),
        "ground_truth": visualize.colorize(np.asarray(labels[:n]), colormap),
        "prediction": visualize.colorize(
            np.asarray(outputs["labels"][:n]), colormap),
    }
    if "uncertainty" in outputs:
        uncertainty = np.asarray(outputs["uncertainty"][:n])
        top = float(uncertainty.max())
        panels["uncertainty"] = np.stack(
            [visualize.heatmap(u, top) for u in uncertainty])
    with writer.as_default(step=step):
        for name, batch in panels.items():
            tf.summary.image(f"images/{name}", batch, max_outputs=n)
