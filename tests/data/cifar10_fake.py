"""A fake `tfds:cifar10` (no download) and a runner of scripts under it.

The fake is easy to learn: the class of an image is its colour (one of ten,
plus noise). In-process: `with mock_cifar10(): ...`. For the scripts, which
run in subprocesses:

    python tests/data/cifar10_fake.py train --model=encnet_cifar ...
"""

import os
import runpy
import sys

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SPLIT_SIZES = {"train": 40, "test": 20}
COLOURS = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25],
                    [0, 130, 200], [245, 130, 48], [145, 30, 180],
                    [70, 240, 240], [240, 50, 230], [128, 128, 128],
                    [250, 250, 250]])


def fake_cifar10(split):
    """The fake split: {"image" uint8 (N, 32, 32, 3), "label" int64 (N,)},
    labels 0..9 in turn, each image its class colour +- 20."""
    size = SPLIT_SIZES[split]
    rng = np.random.default_rng(list(SPLIT_SIZES).index(split))
    labels = np.arange(size) % 10
    noise = rng.integers(-20, 21, (size, 32, 32, 3))
    images = np.clip(COLOURS[labels][:, None, None] + noise, 0, 255)
    return {"image": images.astype(np.uint8), "label": labels.astype(np.int64)}


def mock_cifar10(examples_fn=fake_cifar10):
    """Context manager: `tfds.load("cifar10", split=...)` reads
    `examples_fn(split)` (default: `fake_cifar10`)."""
    def as_dataset(self, *, split, **kwargs):
        del self, kwargs
        return tf.data.Dataset.from_tensor_slices(examples_fn(split))
    return tfds.testing.mock_data(as_dataset_fn=as_dataset)


def run_script(name, args):
    """Runs scripts/<name>.py with `args` in this process, under the fake."""
    script = os.path.join(ROOT, "scripts", f"{name}.py")
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(script))
    with mock_cifar10():
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    run_script(sys.argv[1], sys.argv[2:])
