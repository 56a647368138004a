"""tf.distribute strategies by name, and who is the chief."""

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored", "tpu")


def get_strategy(name, tpu_address=""):
    """Returns a `tf.distribute.Strategy` for a name in `STRATEGIES`.

    Args:
        name: "default" (one device), "mirrored" (all local GPUs, or the
            visible logical devices), "multi_worker_mirrored" (workers from
            TF_CONFIG), "tpu".
        tpu_address: TPU name or grpc address; "" = the local TPU VM.

    Returns:
        The strategy. Build models and optimizers inside `strategy.scope()`.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu=tpu_address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy {name!r}; choose one of {STRATEGIES}.")


def task_info(strategy):
    """Returns (task_type, task_id) of this process (None, 0 if local)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return None, 0
    return resolver.task_type, resolver.task_id or 0


def is_chief(strategy):
    """True for the process that writes checkpoints and summaries."""
    task_type, task_id = task_info(strategy)
    if task_type is None or task_type == "chief":
        return True
    cluster = strategy.cluster_resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and "chief" not in cluster
