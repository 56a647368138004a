"""Progress lines for long loops: done / total, images/s, ETA as h:mm:ss.

Example:
>>> for images, labels in track(dataset, "evaluate val", total=101):
...     ...
logs "evaluate val: 1/101 batches  2.1 images/s  ETA 0:00:48" after the
first batch (a first estimate of the duration), then every 30 s and at the
end.
"""

import time

from absl import logging


def format_duration(seconds):
    """Seconds -> "h:mm:ss" (e.g. 748915 -> "208:01:55")."""
    seconds = max(int(round(seconds)), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counts batches and images; logs a line when one is due.

    Args:
        what: the loop's name at the start of each line.
        total: batches expected, or None when unknown (no ETA then).
        every_seconds: least time between two lines (the first batch and the
            last are always reported).
        clock: time source (seconds).
        log: fn(str) that prints a line.
    """

    def __init__(self, what, total=None, every_seconds=30.0,
                 clock=time.monotonic, log=logging.info):
        self.what, self.total, self.every = what, total, every_seconds
        self.clock, self.log = clock, log
        self.start = self.last = clock()
        self.batches = self.images = 0

    def update(self, images):
        """Records one finished batch of `images` images."""
        self.batches += 1
        self.images += images
        now = self.clock()
        if (self.batches == 1 or self.batches == self.total
                or now - self.last >= self.every):
            self.last = now
            self.log(self.line(now))

    def line(self, now):
        """The progress line at time `now`."""
        elapsed = max(now - self.start, 1e-9)
        done = (f"{self.batches}/{self.total}" if self.total
                else str(self.batches))
        text = (f"{self.what}: {done} batches  "
                f"{self.images / elapsed:.1f} images/s")
        if self.total:
            left = max(self.total - self.batches, 0)
            text += (f"  ETA {format_duration(left * elapsed / self.batches)}"
                     if left else f"  done in {format_duration(elapsed)}")
        return text


def track(batches, what, total=None, every_seconds=30.0):
    """Yields the (images, ...) tuples of `batches`, logging progress.

    Args:
        batches: iterable of tuples whose first item is a batch of images.
        what, total, every_seconds: see `Progress`.
    """
    progress = Progress(what, total, every_seconds)
    for batch in batches:
        yield batch
        progress.update(int(batch[0].shape[0]))
