"""SavedModel export with serving signatures, written atomically."""

import json
import os
import shutil

import tensorflow as tf

from seg_common import files

EXTRA_DIR = "assets.extra"  # TF Serving's folder for files beside the graph
# What a SavedModel directory holds: `--overwrite` replaces nothing else.
SAVED_MODEL_ENTRIES = frozenset({
    "saved_model.pb", "saved_model.pbtxt", "fingerprint.pb", "variables",
    "assets", EXTRA_DIR})


def softmax_outputs(model, images):
    """The default serving computation: softmax of the model's "logits".

    Args:
        model: keras model with dict output holding "logits" (B, H, W, C).
        images: float32 (B, H, W, 3), 0..255.

    Returns:
        {"probabilities": float32 (B, H, W, C)}.
    """
    logits = model(images, training=False)["logits"]
    return {"probabilities": tf.nn.softmax(tf.cast(logits, tf.float32))}


class _Serving(tf.Module):
    """Holds the model (so its variables are saved) and the signatures."""

    def __init__(self, model, outputs_fn):
        super().__init__()
        self.model = model
        # Also every state keras keeps outside TF's object tracking (e.g.
        # the seed-generator state of MC dropout layers).
        self.model_variables = [v.value for v in model.variables]
        self._outputs_fn = outputs_fn

    @tf.function(input_signature=[
        tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    def serve(self, images):
        outputs = dict(self._outputs_fn(self.model, tf.cast(images,
                                                            tf.float32)))
        outputs["probabilities"] = tf.cast(outputs["probabilities"],
                                           tf.float32)
        outputs["labels"] = tf.argmax(outputs["probabilities"], -1,
                                      output_type=tf.int32)
        return outputs

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name="image_bytes")])
    def serve_image_bytes(self, image_bytes):
        images = tf.map_fn(
            lambda data: tf.io.decode_image(data, channels=3,
                                            expand_animations=False),
            image_bytes,
            fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
        return self.serve(images)


def export_saved_model(model, export_dir, outputs_fn=softmax_outputs,
                       extra_files=None, overwrite=False):
    """Writes a SavedModel for serving.

    Signatures:
      - `serving_default`: `images` uint8 (B, H, W, 3) RGB ->
        `labels` int32 (B, H, W), `probabilities` float32 (B, H, W, C), plus
        every other key `outputs_fn` returns (e.g. `uncertainty` (B, H, W)).
      - `serve_image_bytes`: `image_bytes` string (B,) of encoded PNG/JPEG
        images of one size -> the same outputs.

    The model is saved into a temporary sibling directory and renamed into
    place only when complete, so `export_dir` never holds half an export.
    An existing `export_dir` is replaced only when it holds a SavedModel and
    nothing else (see `check_export_dir`).

    Args:
        model: keras model (dict output with "logits").
        export_dir: destination directory.
        outputs_fn: (model, images float32) -> dict with "probabilities" and
            optional extra maps; must be traceable by `tf.function`.
        extra_files: dict file name -> JSON-compatible content written to
            `export_dir/assets.extra/` (e.g. the run's config.json).
        overwrite: replace a previous SavedModel in `export_dir`.

    Returns:
        export_dir.

    Raises:
        FileExistsError: `export_dir` holds anything but a SavedModel, or a
            SavedModel and `overwrite` is False.
    """
    export_dir = os.path.abspath(export_dir)
    check_export_dir(export_dir, overwrite)
    with files.atomic_directory(export_dir, replace=_replace_export) as tmp:
        module = _Serving(model, outputs_fn)
        tf.saved_model.save(module, tmp, signatures={
            "serving_default": module.serve.get_concrete_function(),
            "serve_image_bytes": module.serve_image_bytes.get_concrete_function(),
        })
        _write_extra(tmp, extra_files or {})
    return export_dir


def check_export_dir(export_dir, overwrite):
    """Raises FileExistsError unless `export_dir` may receive an export.

    A missing or empty directory may; a SavedModel alone (the entries of
    `SAVED_MODEL_ENTRIES`, with saved_model.pb) may with `overwrite`;
    anything else (checkpoints, config.json, events, other files) never:
    the message names what is inside.
    """
    if not os.path.lexists(export_dir):
        return
    if not os.path.isdir(export_dir) or os.path.islink(export_dir):
        raise FileExistsError(f"{export_dir} is a file, not a directory; "
                              "choose a new export directory.")
    entries = sorted(os.listdir(export_dir))
    if not entries:
        return
    foreign = [e for e in entries if e not in SAVED_MODEL_ENTRIES]
    if foreign or "saved_model.pb" not in entries:
        raise FileExistsError(
            f"{export_dir} holds {_describe(export_dir, foreign or entries)}"
            ", not only a SavedModel, so it is never replaced; choose a new "
            f"export directory (e.g. {os.path.join(export_dir, 'export')}).")
    if not overwrite:
        raise FileExistsError(
            f"{export_dir} holds a SavedModel "
            f"({_describe(export_dir, entries)}); pass --overwrite "
            "(overwrite=True) to replace it, or choose a new directory.")


def _replace_export(export_dir):
    """Removes a previous SavedModel (checked again) before the rename."""
    check_export_dir(export_dir, overwrite=True)
    shutil.rmtree(export_dir)


def _describe(folder, entries, limit=5):
    names = [e + "/" if os.path.isdir(os.path.join(folder, e)) else e
             for e in entries]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _write_extra(saved_dir, extra_files):
    if not extra_files:
        return
    folder = os.path.join(saved_dir, EXTRA_DIR)
    os.makedirs(folder, exist_ok=True)
    for name, content in extra_files.items():
        with open(os.path.join(folder, name), "w") as f:
            json.dump(content, f, indent=2)


def read_extra(saved_dir, name):
    """Returns the JSON content of `assets.extra/<name>`, or None."""
    path = os.path.join(saved_dir, EXTRA_DIR, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)
