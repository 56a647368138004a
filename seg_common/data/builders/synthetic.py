"""Synthetic scenes: textured background plus shapes of four classes.

Class 0 is a smoothly textured grey background; 1 red discs, 2 green
checkered boxes, 3 blue triangles, 4 yellow striped ellipses. Shapes have
random sizes, positions and colour jitter, occlude each other, and the
image gets pixel noise; labels are exact (drawn with the same masks).
Every example is a pure function of (seed, split, index).
"""

import functools
import zlib

import cv2
import numpy as np

from seg_common.data import label_maps
from seg_common.data.builders import base
from seg_common.data.datasets import SYNTHETIC_COLORS

SPLITS = ("train", "val")
NUM_CLASSES = len(SYNTHETIC_COLORS)


def _background(rng, height, width):
    """Grey background with a smooth random texture; float32 (H, W, 3)."""
    coarse = rng.uniform(-30, 30, (height // 8 + 2, width // 8 + 2, 1))
    texture = cv2.resize(coarse.astype(np.float32), (width, height),
                         interpolation=cv2.INTER_CUBIC)[..., np.newaxis]
    return np.float32(SYNTHETIC_COLORS[0]) + texture


def _mask(rng, cls, height, width):
    """A random uint8 (H, W) mask of the shape of class `cls` (1..4)."""
    mask = np.zeros((height, width), np.uint8)
    size = min(height, width) * rng.uniform(0.1, 0.3)
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    if cls == 1:
        cv2.circle(mask, (int(cx), int(cy)), int(size), 1, -1)
    elif cls == 2:
        box = ((cx, cy), (2 * size, 2 * size * rng.uniform(0.5, 1.5)),
               rng.uniform(0, 90))
        cv2.fillPoly(mask, [np.intp(cv2.boxPoints(box))], 1)
    elif cls == 3:
        angles = rng.uniform(0, 2 * np.pi) + np.array([0, 2.1, 4.2])
        points = np.stack([cx + 1.4 * size * np.cos(angles),
                           cy + 1.4 * size * np.sin(angles)], -1)
        cv2.fillPoly(mask, [np.intp(points)], 1)
    else:
        axes = (int(size * 1.5), int(size * rng.uniform(0.5, 1.0)))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0,
                    360, 1, -1)
    return mask.astype(bool)


def _texture(rng, cls, height, width):
    """The class's colour (jittered) and pattern; float32 (H, W, 3)."""
    colour = np.float32(SYNTHETIC_COLORS[cls]) + rng.uniform(-20, 20, 3)
    yy, xx = np.mgrid[:height, :width]
    if cls == 2:
        pattern = ((yy // 4 + xx // 4) % 2) * 30.0 - 15.0
    elif cls == 4:
        pattern = ((yy + xx) // 3 % 2) * 50.0 - 25.0
    else:
        pattern = np.zeros((height, width))
    return colour + pattern[..., np.newaxis].astype(np.float32)


def render(seed, split, index, image_size):
    """Draws one scene.

    Args:
        seed: int base seed.
        split: split name (mixed into the seed).
        index: example index (mixed into the seed).
        image_size: (height, width).

    Returns:
        image uint8 (H, W, 3) RGB, label uint8 (H, W) class ids 0..4.
    """
    height, width = image_size
    rng = np.random.default_rng([seed, zlib.crc32(split.encode()), index])
    image = _background(rng, height, width)
    label = np.zeros((height, width), np.uint8)
    for _ in range(rng.integers(2, 6)):
        cls = int(rng.integers(1, NUM_CLASSES))
        mask = _mask(rng, cls, height, width)
        image[mask] = _texture(rng, cls, height, width)[mask]
        label[mask] = cls
    image += rng.normal(0, 8, image.shape).astype(np.float32)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), label


def _read(seed, split, image_size, index):
    image, label = render(seed, split, index, image_size)
    data = cv2.imencode(".png", image[..., ::-1])[1].tobytes()
    return base.Example(data, "png", label, f"{split}_{index:06d}.png")


def make_source(split, num_examples=200, image_size=(96, 96), seed=0):
    """The synthetic `Source` of one split.

    Args:
        split: any split name ("train", "val" ...).
        num_examples: examples in the split.
        image_size: (height, width).
        seed: base seed; the same arguments give the same examples.

    Returns:
        base.Source.
    """
    if num_examples < 1:
        raise base.LayoutError("synthetic: empty split, expected "
                               "--num_examples >= 1.")
    read = functools.partial(_read, seed, split, tuple(image_size))
    return base.Source(range(num_examples), read,
                       label_maps.identity_map(NUM_CLASSES), NUM_CLASSES)
