"""deeplabv3plus through train -> evaluate -> export -> predict."""

from _scripts import check_pipeline, image_dir, synthetic_dir  # noqa: F401


def test_deeplab_scripts(synthetic_dir, image_dir, tmp_path):
    check_pipeline("deeplabv3plus", synthetic_dir, image_dir, tmp_path,
                   predict_from_model_dir=False)
