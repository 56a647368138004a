"""bayesian_segnet_tf: see README.md."""
