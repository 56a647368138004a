"""TFRecord builders: each dataset's own layout -> `<split>-*.tfrecord`.

`BUILDERS` maps a dataset name to its module; every module has `SPLITS`,
`NUM_CLASSES` and `make_source(...) -> base.Source`.
"""

import dataclasses
import os

from absl import logging

from seg_common import files
from seg_common.data.builders import ade20k
from seg_common.data.builders import camvid
from seg_common.data.builders import cityscapes
from seg_common.data.builders import pascal_context
from seg_common.data.builders import pascal_voc
from seg_common.data.builders import sun_rgbd
from seg_common.data.builders import synthetic
from seg_common.data.builders.base import InvalidLabelError
from seg_common.data.builders.base import LayoutError
from seg_common.data.builders import writer
from seg_common.data.builders.writer import format_summary
from seg_common.data.builders.writer import write_split

BUILDERS = {
    "ade20k": ade20k,
    "camvid": camvid,
    "cityscapes": cityscapes,
    "pascal_context": pascal_context,
    "pascal_voc": pascal_voc,
    "sun_rgbd": sun_rgbd,
    "synthetic": synthetic,
}


def build(dataset, *, output_dir, splits=None, data_dir=None, num_shards=4,
          invalid_labels="error", overwrite=False, **options):
    """Converts the splits of one dataset to TFRecord shards.

    Every split is written into a temporary sibling of `output_dir` first;
    only when all are complete do the shards move into `output_dir`
    (replacing, with `overwrite`, the old shards of those splits). A failure
    leaves `output_dir` as it was; its other files are never touched.

    Args:
        dataset: a key of `BUILDERS`.
        output_dir: directory of the shards (local).
        splits: split names; default: those of the module's `SPLITS`
            found in `data_dir` (missing ones are skipped with a warning).
        data_dir: the dataset's own directory (not used by "synthetic").
        num_shards: shards per split.
        invalid_labels: "error" or "ignore" (see `write_split`).
        overwrite: replace existing shards.
        **options: dataset-specific `make_source` arguments (pascal_voc:
            sbd_dir; synthetic: num_examples, image_size, seed).

    Returns:
        list of SplitSummary, one per split.
    """
    if dataset not in BUILDERS:
        raise ValueError(f"Unknown dataset {dataset!r}; builders: "
                         f"{', '.join(sorted(BUILDERS))}.")
    module = BUILDERS[dataset]
    sources, errors = [], []
    for split in splits or module.SPLITS:
        try:
            sources.append((split, _make_source(module, dataset, split,
                                                data_dir, options)))
        except LayoutError as error:
            if splits:  # asked for explicitly: a missing split is an error
                raise
            errors.append(error)
            logging.warning("Skipping split %s: %s", split, error)
    if not sources:
        raise errors[0]
    for split, _ in sources:  # refuse before any work
        writer.check_not_written(output_dir, split, overwrite)
    with files.staging_directory(output_dir) as staging:
        summaries = [write_split(source, split=split, output_dir=staging,
                                 num_shards=num_shards,
                                 invalid_labels=invalid_labels)
                     for split, source in sources]
        for split, _ in sources:
            for path in writer.existing_shards(output_dir, split):
                os.remove(path)
    return [dataclasses.replace(s, files=tuple(
        os.path.join(output_dir, os.path.basename(f)) for f in s.files))
        for s in summaries]


def _make_source(module, dataset, split, data_dir, options):
    if dataset == "synthetic":
        return module.make_source(split, **options)
    return module.make_source(data_dir, split, **options)


__all__ = ["BUILDERS", "InvalidLabelError", "LayoutError", "build",
           "format_summary", "write_split"]
