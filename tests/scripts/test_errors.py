"""The scripts' error contract: each ordinary mistake exits 1 with one line
on stderr naming the flag, file or record, and no traceback; a run that
fails leaves no model directory it created. Run in-process (fast)."""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from _inprocess import assert_one_line_error, call_script
from _scripts import synthetic_dir  # noqa: F401
from seg_common.data import builders, tfrecord
from tests.data import segdata_fakes


def _train(data_dir, model_dir, *extra):
    return call_script(
        "train", "--model=encnet", "--preset=tiny", "--dataset=synthetic",
        f"--data_dir={data_dir}", f"--model_dir={model_dir}",
        "--train_steps=1", "--batch_size=2", "--crop_size=32", "--novalidate",
        *extra)


@pytest.fixture(scope="session")
def trained_run(synthetic_dir, tmp_path_factory):  # noqa: F811
    """One tiny EncNet run (1 step), shared by the tests that need one."""
    model_dir = str(tmp_path_factory.mktemp("errors") / "run")
    result = _train(synthetic_dir, model_dir)
    assert result.code == 0, result
    return model_dir


@pytest.fixture(scope="session")
def camvid(tmp_path_factory):
    """(raw CamVid-layout folder, its 11-class TFRecords)."""
    tmp = tmp_path_factory.mktemp("camvid")
    raw, records = str(tmp / "CamVid"), str(tmp / "records")
    segdata_fakes.camvid_tree(raw, np.random.default_rng(0))
    builders.build("camvid", data_dir=raw, output_dir=records, num_shards=1)
    return raw, records


def _first_label_above(data_dir, split, num_classes):
    """Oracle: (record index, value) of the first label >= num_classes."""
    files = tfrecord.list_shards(f"{data_dir}/{split}-*-of-*.tfrecord")
    for index, record in enumerate(tf.data.TFRecordDataset(files)):
        label = tfrecord.decode_example(record)["label"].numpy()
        label = label[label != 255]
        if label.max() >= num_classes:
            return index, int(label.max())
    raise AssertionError("no offending label")


def test_single_crop_size_is_a_square(trained_run, synthetic_dir,  # noqa
                                      tmp_path):
    with open(os.path.join(trained_run, "config.json")) as f:
        assert json.load(f)["config"]["crop_size"] == [32, 32]
    result = _train(synthetic_dir, tmp_path / "run", "--crop_size=3,4,5")
    assert_one_line_error(result, "--crop_size=3,4,5", "height,width")


def test_missing_data_dir(tmp_path):
    result = call_script("train", "--model=encnet", "--dataset=synthetic",
                         f"--model_dir={tmp_path}/run")
    assert_one_line_error(result, "--data_dir", "build_tfrecords.py")
    assert not os.path.exists(tmp_path / "run")


def test_raw_dataset_folder_says_to_build_records(camvid, tmp_path):
    raw, _ = camvid
    line = assert_one_line_error(_train(raw, tmp_path / "run"),
                                 f"--data_dir={raw}", "build_tfrecords.py")
    assert "holds no TFRecord shards" in line
    assert not os.path.exists(tmp_path / "run")


def test_wrong_preset_lists_the_presets(synthetic_dir, tmp_path):  # noqa
    result = _train(synthetic_dir, tmp_path / "run", "--preset=huge")
    assert_one_line_error(result, "--preset=huge", "tiny", "pascal_context")


@pytest.mark.parametrize("flag, choice", [("--model=unet", "deeplabv3plus"),
                                          ("--dataset=mnist", "camvid")])
def test_bad_flag_value_is_one_line(tmp_path, flag, choice):
    result = call_script("train", "--model=encnet", "--dataset=synthetic",
                         f"--model_dir={tmp_path}", flag)
    assert_one_line_error(result, flag, choice)


def test_labels_above_the_classes_name_the_record(camvid, tmp_path):
    _, records = camvid
    index, value = _first_label_above(records, "train", 5)
    result = _train(records, tmp_path / "run")
    assert_one_line_error(
        result, f"{records}/train-00000-of-00001.tfrecord record {index}",
        f"has label {value}", "5 classes", "--dataset")
    assert not os.path.exists(tmp_path / "run")  # created, failed: removed
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("kept")
    assert _train(records, tmp_path / "mine").code == 1
    assert "notes.txt" in os.listdir(tmp_path / "mine")  # existed: kept


def _copy_shards(source, target):
    shutil.copytree(source, target)
    return str(target)


def test_truncated_shard_is_named(synthetic_dir, tmp_path):  # noqa: F811
    data_dir = _copy_shards(synthetic_dir, tmp_path / "records")
    shard = os.path.join(data_dir, "train-00001-of-00002.tfrecord")
    with open(shard, "r+b") as f:
        f.truncate(os.path.getsize(shard) - 100)
    line = assert_one_line_error(_train(data_dir, tmp_path / "run"), shard,
                                 "truncated", "build_tfrecords.py")
    assert "record 3" in line  # 4 records per shard: the last is cut
    assert not os.path.exists(tmp_path / "run")


def test_bit_flip_is_named(trained_run, synthetic_dir, tmp_path):  # noqa: F811
    data_dir = _copy_shards(synthetic_dir, tmp_path / "records")
    shard = os.path.join(data_dir, "val-00000-of-00002.tfrecord")
    data = bytearray(open(shard, "rb").read())
    data[len(data) // 2] ^= 0x10
    open(shard, "wb").write(bytes(data))
    result = call_script("evaluate", f"--model_dir={trained_run}",
                         f"--data_dir={data_dir}")
    assert_one_line_error(result, shard, "corrupt", "build_tfrecords.py")


def test_split_that_does_not_exist(trained_run):
    result = call_script("evaluate", f"--model_dir={trained_run}",
                         "--split=test")
    assert_one_line_error(result, "--split=test", "train, val")


def test_missing_model_dir(tmp_path):
    result = call_script("evaluate", f"--model_dir={tmp_path}/nowhere")
    assert_one_line_error(result, f"--model_dir={tmp_path}/nowhere",
                          "config.json", "train.py")


def test_evaluate_refuses_records_of_another_dataset(trained_run, camvid):
    _, records = camvid
    index, value = _first_label_above(records, "val", 5)
    result = call_script("evaluate", f"--model_dir={trained_run}",
                         f"--data_dir={records}")
    assert_one_line_error(
        result, f"{records}/val-00000-of-00001.tfrecord record {index}",
        f"has label {value}", "5 classes")
    assert not os.path.exists(os.path.join(trained_run, "eval_val.json"))


def test_evaluate_refuses_a_class_count_mismatch(trained_run, tmp_path):
    model_dir = str(tmp_path / "run")
    shutil.copytree(trained_run, model_dir)
    path = os.path.join(model_dir, "config.json")
    record = json.load(open(path))
    record["dataset"] = "camvid"
    json.dump(record, open(path, "w"))
    result = call_script("evaluate", f"--model_dir={model_dir}")
    assert_one_line_error(result, f"--model_dir={model_dir}", "5 classes",
                          "camvid has 11")


def test_missing_saved_model(tmp_path):
    result = call_script("predict", f"--saved_model={tmp_path}/none",
                         f"--input={__file__}", f"--output_dir={tmp_path}/o")
    assert_one_line_error(result, f"--saved_model={tmp_path}/none",
                          "export.py")


def test_export_never_replaces_a_run(trained_run):
    before = sorted(os.listdir(trained_run))
    result = call_script("export", f"--model_dir={trained_run}",
                         f"--export_dir={trained_run}", "--overwrite")
    assert_one_line_error(result, "--export_dir", "checkpoint", "config.json",
                          "never replaced", f"{trained_run}/export")
    assert sorted(os.listdir(trained_run)) == before


def test_model_dir_of_another_config_is_refused(trained_run,
                                                synthetic_dir):  # noqa: F811
    before = open(os.path.join(trained_run, "config.json")).read()
    result = call_script(
        "train", "--model=bayesian_segnet", "--preset=tiny",
        "--dataset=synthetic", f"--data_dir={synthetic_dir}",
        f"--model_dir={trained_run}", "--crop_size=16", "--novalidate")
    assert_one_line_error(
        result, f"{trained_run} holds a run with another configuration",
        "model: 'encnet' -> 'bayesian_segnet'", "more, see its config.json",
        "use a new --model_dir", f"--init_checkpoint={trained_run}")
    assert open(os.path.join(trained_run, "config.json")).read() == before


def test_verbose_shows_the_traceback(synthetic_dir, tmp_path,  # noqa: F811
                                     monkeypatch):
    import _cli
    monkeypatch.setenv("SEG_VERBOSE", "1")
    with pytest.raises(_cli.UserError, match="--preset=huge"):
        _train(synthetic_dir, tmp_path / "run", "--preset=huge")


@pytest.mark.parametrize("extra, names", [
    (("--batch_size=0",), ("--batch_size=0",)),
    (("--train_steps=-5",), ("--train_steps=-5",)),
    (("--override=num_classes=7",), ("num_classes=7", "--dataset=synthetic")),
])
def test_train_refuses_impossible_values(synthetic_dir, tmp_path,  # noqa: F811
                                         extra, names):
    model_dir = tmp_path / "run"
    assert_one_line_error(_train(synthetic_dir, model_dir, *extra), *names)
    assert not model_dir.exists()


def test_bad_seg_precision_is_one_line(synthetic_dir, tmp_path,  # noqa: F811
                                       monkeypatch):
    monkeypatch.setenv("SEG_PRECISION", "fp16")
    assert_one_line_error(_train(synthetic_dir, tmp_path / "run"),
                          "SEG_PRECISION=fp16")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("extra, names", [
    (("--eval_scales=0",), ("--eval_scales=0", "> 0")),
    (("--mc_samples=5",), ("--mc_samples", "encnet")),
])
def test_evaluate_refuses_options_it_cannot_apply(trained_run, extra, names):
    result = call_script("evaluate", f"--model_dir={trained_run}", *extra)
    assert_one_line_error(result, *names)


def test_predict_points_a_run_given_as_saved_model_to_model_dir(
        trained_run, tmp_path):
    (tmp_path / "a.png").write_bytes(b"")   # the glob must match something
    result = call_script("predict", f"--saved_model={trained_run}",
                         f"--input={tmp_path}/*.png",
                         f"--output_dir={tmp_path}/out")
    assert_one_line_error(result, f"--model_dir={trained_run}")
