"""TensorFlow Datasets sources: `tfds:<name>` feeding `build_dataset`.

A `TfdsAdapter` names the image and mask features of a TFDS dataset and maps
the mask values to class ids (255 = ignore). Adapters for a few datasets are
built in; pass your own for any other dataset with an image and a mask.
"""

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from seg_common.data import label_maps


@dataclasses.dataclass(frozen=True)
class TfdsAdapter:
    """Turns a TFDS example dict into `(image, label)`.

    Attributes:
        image_key: feature holding the uint8 (H, W, 3) image.
        label_key: feature holding the mask (H, W) or (H, W, C); channel 0
            holds the source value.
        label_map: int16 (256,) table from `label_maps` (INVALID -> 255),
            or None to keep the values.
    """

    image_key: str
    label_key: str
    label_map: tuple = None

    def __call__(self, example):
        """Returns image uint8 (H, W, 3) and label uint8 (H, W)."""
        image = example[self.image_key]
        label = example[self.label_key]
        if label.shape.rank == 3:
            label = label[..., 0]
        if self.label_map is not None:
            table = np.where(np.asarray(self.label_map) < 0,
                             label_maps.IGNORE, self.label_map)
            label = tf.gather(tf.constant(table, tf.uint8),
                              tf.cast(label, tf.int32))
        return image, tf.cast(label, tf.uint8)


ADAPTERS = {
    "oxford_iiit_pet": TfdsAdapter(
        "image", "segmentation_mask", tuple(label_maps.oxford_pet_map())),
    "scene_parse150": TfdsAdapter(
        "image", "annotation", tuple(label_maps.shift_map(150))),
    "cityscapes": TfdsAdapter(
        "image_left", "segmentation_label",
        tuple(label_maps.cityscapes_map())),
}


def get_adapter(name):
    """The built-in adapter for a TFDS name like "cityscapes/semantic_...".

    Raises:
        ValueError: no built-in adapter (the message lists them).
    """
    base = name.split("/")[0].split(":")[0]
    if base not in ADAPTERS:
        raise ValueError(f"No TFDS adapter for {name!r}; built in: "
                         f"{', '.join(sorted(ADAPTERS))}. Pass "
                         "tfds_adapter=TfdsAdapter(image_key, label_key).")
    return ADAPTERS[base]


def load_tfds(name, *, split, training, input_context=None, adapter=None,
              data_dir=None):
    """Loads a TFDS split as a dataset of `(image, label)` uint8 pairs.

    Args:
        name: TFDS name, optionally with config/version.
        split: TFDS split, e.g. "train", "validation", "test[:10%]".
        training: shuffle the files.
        input_context: `tf.distribute.InputContext` to shard by, or None.
        adapter: `TfdsAdapter`, default `get_adapter(name)`.
        data_dir: TFDS data directory, or None for the default.

    Returns:
        tf.data.Dataset of (uint8 (H, W, 3), uint8 (H, W)).
    """
    adapter = adapter or get_adapter(name)
    read_config = tfds.ReadConfig(input_context=input_context)
    dataset = tfds.load(name, split=split, shuffle_files=training,
                        data_dir=data_dir, read_config=read_config)
    return dataset.map(adapter, num_parallel_calls=tf.data.AUTOTUNE)
