"""Atomic outputs: nothing a user made is deleted, nothing is left half-written.

Every writer of a directory or file the user names (SavedModel export,
TFRecord builds, converted weights) writes into a temporary sibling and
renames it into place only when the whole output is complete. A failure
leaves the destination as it was and removes only the temporary sibling.

Example:
>>> with atomic_directory("/tmp/out") as tmp:   # tmp = /tmp/.out.tmp-XXXX
...     open(os.path.join(tmp, "a.txt"), "w").write("done")
"""

import contextlib
import os
import pathlib
import shutil
import tempfile


def _umask_mode(default):
    """`default` (0o777 dirs, 0o666 files) under the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return default & ~umask


def _temporary_sibling(path, make):
    parent = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(parent, exist_ok=True)
    prefix = f".{os.path.basename(os.path.abspath(path))}.tmp-"
    if make == "dir":
        return tempfile.mkdtemp(prefix=prefix, dir=parent)
    handle, name = tempfile.mkstemp(prefix=prefix, dir=parent,
                                    suffix="".join(pathlib.Path(path).suffixes))
    os.close(handle)
    return name


@contextlib.contextmanager
def atomic_directory(path, replace=None):
    """Yields a temporary directory that becomes `path` on success.

    Args:
        path: the destination directory.
        replace: called as `replace(path)` when `path` already exists, after
            the output is complete and before the rename; it must remove the
            old directory or raise (e.g. `FileExistsError` naming what is
            inside). `None`: an existing `path` raises `FileExistsError`.

    Yields:
        The temporary directory (a sibling of `path`, same filesystem).

    Raises:
        FileExistsError: `path` exists and `replace` is None.
    """
    if os.path.lexists(path) and replace is None:
        raise FileExistsError(f"{path} already exists")
    tmp = _temporary_sibling(path, "dir")
    try:
        yield tmp
        os.chmod(tmp, _umask_mode(0o777))   # mkdtemp makes it private
        if os.path.lexists(path):
            replace(path)
        os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def staging_directory(directory):
    """Yields a temporary sibling directory whose files move into
    `directory` (created if needed) on success, replacing files of the same
    name; every other file of `directory` stays. On failure `directory` is
    left as it was. Local paths only.
    """
    tmp = _temporary_sibling(directory, "dir")
    try:
        yield tmp
        os.makedirs(directory, exist_ok=True)
        for name in sorted(os.listdir(tmp)):
            os.replace(os.path.join(tmp, name), os.path.join(directory, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path):
    """Yields a temporary file name that replaces `path` on success.

    The temporary file keeps `path`'s extensions (`.weights.h5`: writers such
    as `keras.Model.save_weights` check them) and lives beside `path`.
    """
    tmp = _temporary_sibling(path, "file")
    try:
        yield tmp
        os.chmod(tmp, _umask_mode(0o666))   # mkstemp makes it private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
