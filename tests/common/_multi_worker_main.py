"""One worker of test_multi_worker: trains the tiny model under
MultiWorkerMirroredStrategy (TF_CONFIG from the environment) and, on the
chief, saves the final weights.

Usage: python _multi_worker_main.py MODEL_DIR OUTPUT_NPZ
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import _tiny  # noqa: E402
from seg_common import training  # noqa: E402

STEPS, GLOBAL_BATCH = 3, 8


def run(strategy, model_dir):
    """Trains STEPS steps on the fixed data; returns the trainer."""
    import keras
    keras.utils.set_random_seed(0)
    images, labels = _tiny.make_data(16)
    config = _tiny.TinyConfig()
    trainer = training.Trainer(
        strategy, lambda: _tiny.build_model(config), _tiny.loss_fn, config,
        training.LoopOptions(train_steps=STEPS, checkpoint_every=STEPS),
        model_dir)
    trainer.fit(_tiny.dataset_fn(images, labels, GLOBAL_BATCH))
    return trainer


def main(model_dir, output):
    strategy = training.get_strategy("multi_worker_mirrored")
    trainer = run(strategy, model_dir)
    if training.is_chief(strategy):
        np.savez(output, *[v.numpy() for v in trainer.model.weights],
                 replicas=strategy.num_replicas_in_sync)


if __name__ == "__main__":
    main(*sys.argv[1:3])
