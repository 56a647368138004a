"""seg_common.progress: h:mm:ss and the progress lines, on a fake clock."""

from seg_common import progress


def test_format_duration():
    assert progress.format_duration(748915) == "208:01:55"
    assert progress.format_duration(59.6) == "0:01:00"
    assert progress.format_duration(-3) == "0:00:00"


def test_lines_first_every_and_last():
    now, lines = [0.0], []
    bar = progress.Progress("evaluate val", total=4, every_seconds=30,
                            clock=lambda: now[0], log=lines.append)
    for seconds in (10, 20, 45, 50):  # batches of 2 images end at these times
        now[0] = seconds
        bar.update(2)
    assert lines == [
        "evaluate val: 1/4 batches  0.2 images/s  ETA 0:00:30",
        "evaluate val: 3/4 batches  0.1 images/s  ETA 0:00:15",
        "evaluate val: 4/4 batches  0.2 images/s  done in 0:00:50"]


def test_unknown_total_has_no_eta():
    lines = []
    bar = progress.Progress("validate", clock=lambda: 4.0, log=lines.append)
    bar.start = 0.0
    bar.update(8)
    assert lines == ["validate: 1 batches  2.0 images/s"]
