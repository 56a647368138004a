"""Writes a builder's `Source` into TFRecord shards, with a summary."""

from concurrent import futures
import functools

import numpy as np
import tensorflow as tf
from absl import logging

from seg_common.data import label_maps
from seg_common.data import tfrecord
from seg_common.data.builders.base import InvalidLabelError, SplitSummary

_CHUNK = 64  # items in flight at once (bounds memory on large datasets)


def existing_shards(output_dir, split):
    """The sorted `<split>-*-of-*.tfrecord` shards already in `output_dir`."""
    return sorted(tf.io.gfile.glob(f"{output_dir}/{split}-*-of-*.tfrecord"))


def check_not_written(output_dir, split, overwrite):
    """Raises FileExistsError if the split has shards, unless `overwrite`."""
    existing = existing_shards(output_dir, split)
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing[0]} already exists ({len(existing)} {split} shards)"
            "; pass --overwrite to replace them (only those shards).")
    return existing


def _map_label(example, source, invalid_labels):
    """Source values -> class ids; returns (uint8 label, invalid count)."""
    mapped, invalid = label_maps.apply_map(source.table, example.label)
    if invalid and invalid_labels != "ignore":
        values = np.unique(example.label[source.table[example.label] < 0])
        raise InvalidLabelError(
            f"{example.name}: label values {values.tolist()} are not class "
            f"ids 0..{source.num_classes - 1} nor ignored; pass "
            "--invalid_labels=ignore to map them to 255.")
    return mapped.astype(np.uint8), invalid


def _convert(source, invalid_labels, item):
    """Reads, checks and serializes one item.

    Returns:
        (serialized example, label histogram (256,), invalid pixel count).
    """
    example = source.read(item)
    label, invalid = _map_label(example, source, invalid_labels)
    height, width = label.shape
    serialized = tfrecord.encode_example(
        example.image_bytes, tfrecord.encode_label(label),
        filename=example.name, height=height, width=width,
        image_format=example.image_format)
    return serialized, np.bincount(label.ravel(), minlength=256), invalid


def write_split(source, *, split, output_dir, num_shards=1,
                invalid_labels="error", overwrite=False, num_threads=4):
    """Converts one split into `<split>-NNNNN-of-MMMMM.tfrecord` shards.

    Args:
        source: `Source` of the split.
        split: split name used in the shard names.
        output_dir: directory for the shards (created if needed).
        num_shards: number of shards; examples are assigned contiguously.
        invalid_labels: "error" (stop, naming the file) or "ignore" (map to
            255 and count them).
        overwrite: replace existing shards of this split.
        num_threads: threads reading and decoding the sources.

    Returns:
        SplitSummary.
    """
    if invalid_labels not in ("error", "ignore"):
        raise ValueError(f"invalid_labels must be 'error' or 'ignore', got "
                         f"{invalid_labels!r}.")
    tf.io.gfile.makedirs(output_dir)
    for path in check_not_written(output_dir, split, overwrite):
        tf.io.gfile.remove(path)
    total = len(source.items)
    num_shards = max(1, min(num_shards, total))
    files = tuple(tfrecord.shard_path(output_dir, split, i, num_shards)
                  for i in range(num_shards))
    histogram = np.zeros(256, np.int64)
    invalid_pixels = 0
    writers = [tf.io.TFRecordWriter(path) for path in files]
    convert = functools.partial(_convert, source, invalid_labels)
    try:
        with futures.ThreadPoolExecutor(num_threads) as pool:
            for start in range(0, total, _CHUNK):
                chunk = source.items[start:start + _CHUNK]
                for index, (record, counts, invalid) in enumerate(
                        pool.map(convert, chunk), start):
                    writers[index * num_shards // total].write(record)
                    histogram += counts
                    invalid_pixels += invalid
                logging.info("%s: %d/%d examples", split,
                             start + len(chunk), total)
    except BaseException:
        for writer, path in zip(writers, files):
            writer.close()
            tf.io.gfile.remove(path)  # no partial split is left behind
        raise
    for writer in writers:
        writer.close()
    return SplitSummary(split, total, histogram[:source.num_classes],
                        int(histogram[label_maps.IGNORE]), invalid_pixels,
                        files)


def format_summary(summaries, class_names):
    """A human-readable summary: examples per split, class pixel histogram.

    Args:
        summaries: list of SplitSummary.
        class_names: names of the classes, in id order.

    Returns:
        str, several lines.
    """
    lines = [f"{'split':<12}{'examples':>10}{'shards':>8}{'invalid px':>12}"]
    for s in summaries:
        lines.append(f"{s.split:<12}{s.examples:>10}{len(s.files):>8}"
                     f"{s.invalid_pixels:>12}")
    lines.append("class pixel share (%) per split:")
    lines.append(f"{'id':>4} {'class':<20}" + "".join(
        f"{s.split:>12}" for s in summaries))
    totals = [s.class_pixels.sum() + s.ignore_pixels for s in summaries]
    rows = [(str(i), name, [s.class_pixels[i] for s in summaries])
            for i, name in enumerate(class_names)]
    rows.append(("255", "ignore", [s.ignore_pixels for s in summaries]))
    for ident, name, counts in rows:
        lines.append(f"{ident:>4} {name:<20}" + "".join(
            f"{100.0 * c / max(t, 1):>12.2f}" for c, t in zip(counts, totals)))
    return "\n".join(lines)
