"""Input-pipeline throughput: images per second a dataset delivers."""

import time


def measure_throughput(dataset, *, num_batches=50, warmup_batches=10):
    """Iterates a batched dataset and times it (no model involved).

    Args:
        dataset: tf.data.Dataset of (images (B, H, W, C), labels) batches,
            with at least `warmup_batches + num_batches` batches.
        num_batches: batches timed.
        warmup_batches: batches consumed first, untimed (fills caches,
            autotuning and prefetch buffers).

    Returns:
        dict: "images_per_second", "batches_per_second", "images", "seconds".
    """
    iterator = iter(dataset)
    for _ in range(warmup_batches):
        next(iterator)
    images = 0
    start = time.perf_counter()
    for _ in range(num_batches):
        batch_images, _ = next(iterator)
        images += int(batch_images.shape[0])
    seconds = time.perf_counter() - start
    return {"images_per_second": images / seconds,
            "batches_per_second": num_batches / seconds,
            "images": images, "seconds": seconds}
