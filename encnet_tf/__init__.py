"""encnet_tf: see README.md."""
