"""The trained Bayesian SegNet models shipped with the package.

`build_model(weights=name)` builds the architecture an entry was trained
with and loads its weights (`seg_common.pretrained`); `docs/RESULTS.md`
gives each one's training command and validation scores.
"""

import os

from bayesian_segnet_tf.config import Config
from seg_common.pretrained import load_pretrained

WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "weights")

# The Config fields that shape the network or its predictions: a shipped
# entry records those that differ from `Config()`.
ARCHITECTURE_FIELDS = ("arch", "num_classes", "dropout", "dropout_rate",
                       "width_multiplier", "bn_epsilon", "bn_beta_init",
                       "num_samples")

PRETRAINED = {}


def architecture(config):
    """The `ARCHITECTURE_FIELDS` of `config` that differ from `Config()`."""
    default = Config()
    return {name: getattr(config, name) for name in ARCHITECTURE_FIELDS
            if getattr(config, name) != getattr(default, name)}


def pretrained_entry(name):
    """The `Pretrained` entry of `name` (ValueError lists the names)."""
    if name not in PRETRAINED:
        names = ", ".join(sorted(PRETRAINED)) or "none"
        raise ValueError(f"No shipped Bayesian SegNet weights named {name!r};"
                         f" available: {names}.")
    return PRETRAINED[name]


def load_shipped_weights(model, name):
    """Loads the shipped weights `name` into `model` (built with the entry's
    config)."""
    load_pretrained(model, pretrained_entry(name), WEIGHTS_DIR)
