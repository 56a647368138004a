"""deeplab_tf: see README.md."""
