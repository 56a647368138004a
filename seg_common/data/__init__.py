"""Data: TFRecord / TFDS sources, augmentation and `build_dataset`.

Modules: `tfrecord` (keys, encode/decode, shard checks), `datasets`
(`DatasetInfo` table), `preprocess` (train / eval parse), `pipeline`
(`build_dataset`), `tfds_source` (TFDS adapters), `classification`
(`build_classification_dataset`, CIFAR-style), `class_weights`,
`throughput`, `builders` (dataset layouts -> TFRecords).
"""

from seg_common.data.class_weights import class_weights
from seg_common.data.class_weights import preset_weights
from seg_common.data.classification import build_classification_dataset
from seg_common.data.datasets import DatasetInfo
from seg_common.data.datasets import get_dataset_info
from seg_common.data.pipeline import build_dataset
from seg_common.data.throughput import measure_throughput
from seg_common.data.tfds_source import TfdsAdapter
from seg_common.data.tfrecord import CorruptRecordError

__all__ = ["CorruptRecordError", "DatasetInfo", "TfdsAdapter",
           "build_classification_dataset", "build_dataset", "class_weights",
           "get_dataset_info", "measure_throughput", "preset_weights"]
