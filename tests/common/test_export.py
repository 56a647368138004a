"""seg_common.export: reload in a fresh process and match the Keras model."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

import _tiny
from seg_common import export

_RELOAD = """
import sys, numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
images = np.load(sys.argv[2])
out = loaded.signatures["serving_default"](images=tf.constant(images))
with open(sys.argv[3], "rb") as f:
    data = f.read()
out_bytes = loaded.signatures["serve_image_bytes"](
    image_bytes=tf.constant([data, data]))
np.savez(sys.argv[4], labels=out["labels"].numpy(),
         probabilities=out["probabilities"].numpy(),
         bytes_labels=out_bytes["labels"].numpy(),
         bytes_probabilities=out_bytes["probabilities"].numpy())
"""


def _with_uncertainty(model, images):
    probabilities = export.softmax_outputs(model, images)["probabilities"]
    return {"probabilities": probabilities,
            "uncertainty": 1.0 - tf.reduce_max(probabilities, -1)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    model = _tiny.build_model()
    export_dir = str(tmp / "saved")
    export.export_saved_model(model, export_dir, extra_files={
        "config.json": {"dataset": "synthetic"}})
    return model, export_dir, tmp


def test_reload_in_fresh_process_matches_keras(exported):
    model, export_dir, tmp = exported
    images = np.random.default_rng(0).integers(
        0, 256, size=(2, 20, 12, 3)).astype(np.uint8)
    np.save(tmp / "images.npy", images)
    cv2.imwrite(str(tmp / "image.png"), images[0][..., ::-1])  # RGB -> BGR
    subprocess.run([sys.executable, "-c", _RELOAD, export_dir,
                    str(tmp / "images.npy"), str(tmp / "image.png"),
                    str(tmp / "out.npz")], check=True, timeout=120,
                   env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
    out = np.load(tmp / "out.npz")
    want = tf.nn.softmax(model(images.astype(np.float32))["logits"]).numpy()
    np.testing.assert_allclose(out["probabilities"], want, atol=1e-4)
    assert out["labels"].dtype == np.int32
    np.testing.assert_array_equal(out["labels"], want.argmax(-1))
    for i in range(2):  # the PNG round-trip is lossless
        np.testing.assert_allclose(out["bytes_probabilities"][i], want[0],
                                   atol=1e-4)
    assert export.read_extra(export_dir, "config.json") == {
        "dataset": "synthetic"}


def test_overwrite_replaces_only_a_previous_export(exported):
    model, export_dir, _ = exported
    with pytest.raises(FileExistsError, match="holds a SavedModel.*--overwrite"):
        export.export_saved_model(model, export_dir)
    export.export_saved_model(model, export_dir, outputs_fn=_with_uncertainty,
                              overwrite=True)
    loaded = tf.saved_model.load(export_dir)
    out = loaded.signatures["serving_default"](
        images=tf.zeros([1, 8, 8, 3], tf.uint8))
    assert sorted(out) == ["labels", "probabilities", "uncertainty"]
    assert export.read_extra(export_dir, "config.json") is None
    parent = os.path.dirname(export_dir)
    assert not [n for n in os.listdir(parent) if ".saved." in n
                or n.startswith("saved.")]  # no temporary left


def _tree(folder):
    return sorted((os.path.relpath(os.path.join(root, name), folder),
                   os.path.getsize(os.path.join(root, name)))
                  for root, _, names in os.walk(folder) for name in names)


@pytest.mark.parametrize("extra", ["run", "notes"])
def test_overwrite_never_replaces_a_directory_of_other_files(tmp_path, extra):
    """A model dir (checkpoints, config, events) or a SavedModel with one
    file beside it is refused even with overwrite, and left untouched."""
    model = _tiny.build_model()
    target = tmp_path / "target"
    if extra == "run":
        target.mkdir()
        (target / "checkpoint").write_text("model_checkpoint_path: 'ckpt-4'")
        (target / "config.json").write_text("{}")
        (target / "train").mkdir()
        (target / "train" / "events.out.tfevents.1").write_bytes(b"x")
        names = "checkpoint, config.json, train/"
    else:
        export.export_saved_model(model, str(target))
        (target / "notes.txt").write_text("mine")
        names = "notes.txt"
    before = _tree(target)
    with pytest.raises(FileExistsError, match=f"holds {names},.* never"):
        export.export_saved_model(model, str(target), overwrite=True)
    assert _tree(target) == before
    assert sorted(os.listdir(tmp_path)) == ["target"]


def test_failed_export_leaves_destination_untouched(tmp_path):
    def broken(model, images):
        raise RuntimeError("boom")
    export_dir = tmp_path / "saved"
    with pytest.raises(RuntimeError, match="boom"):
        export.export_saved_model(_tiny.build_model(), str(export_dir),
                                  outputs_fn=broken)
    assert os.listdir(tmp_path) == []  # no partial export, no temporary
