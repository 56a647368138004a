"""The model-agnostic training, evaluation and model-directory toolkit.

Modules: `strategy` (tf.distribute by name), `schedules` (LR with warm-up),
`loop` (Trainer, custom distributed train step), `bn_statistics` (population
batch-norm statistics after training), `checkpoints` (atomic,
resumable, warm start), `model_dir` (config.json), `evaluation` (streaming
scores), `summaries` + `visualize` (TensorBoard and pictures), `keras_task`
(Keras compile/fit: `SegmentationTask`, `MultiplierSGD`, `MeanIoU`).
"""

from seg_common.training.bn_statistics import recompute_bn_statistics
from seg_common.training.checkpoints import restore_model, warm_start
from seg_common.training.evaluation import (classification_scores,
                                            evaluate, format_table,
                                            segmentation_scores,
                                            softmax_predictor)
from seg_common.training.keras_task import (MeanIoU, MultiplierSGD,
                                             SegmentationTask)
from seg_common.training.loop import (LoopOptions, NonFiniteLossError,
                                      Trainer, Validation,
                                      set_mixed_precision)
from seg_common.training.model_dir import (ConfigMismatchError, make_record,
                                           prepare_model_dir, read_record)
from seg_common.training.schedules import LR_SCHEDULES, WarmupDecay
from seg_common.training.strategy import STRATEGIES, get_strategy, is_chief

__all__ = [
    "ConfigMismatchError", "LR_SCHEDULES", "LoopOptions", "MeanIoU",
    "MultiplierSGD", "NonFiniteLossError", "STRATEGIES", "SegmentationTask",
    "Trainer", "Validation", "WarmupDecay", "classification_scores",
    "evaluate", "format_table", "get_strategy", "is_chief", "make_record",
    "prepare_model_dir", "read_record", "recompute_bn_statistics",
    "restore_model", "segmentation_scores", "set_mixed_precision",
    "softmax_predictor", "warm_start",
]
