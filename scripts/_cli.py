"""The scripts' error contract: a user's mistake is one line, not a traceback.

Every script ends with `_cli.run(main)`. A user's mistake (`UserError`,
`app.UsageError`, a bad flag value, or one of the `USER_ERRORS` the library
raises about its inputs) exits with status 1 after ONE line on stderr,
"error: <what> ... <what to do>". Any other exception is a bug and keeps its
traceback. `--verbose` (or SEG_VERBOSE=1) shows the traceback of a mistake
too.
"""

import os
import sys

# Quieter TF start-up; _cli is the first module a script imports, and this
# must precede the first TensorFlow import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from seg_common.data.builders.base import InvalidLabelError, LayoutError  # noqa: E402,E501
from seg_common.data.tfrecord import CorruptRecordError  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_bool("verbose", False, "Show the Python traceback of an error "
                  "(also: environment variable SEG_VERBOSE=1).")


class UserError(Exception):
    """A mistake in the flags or files a user gave; the message is the one
    line printed: what is wrong (naming the flag, file or record) and what to
    do."""


# Library errors whose messages already name the file or record at fault.
USER_ERRORS = (UserError, app.UsageError, LayoutError, InvalidLabelError,
               CorruptRecordError)
_ADVICE = {
    CorruptRecordError: " Rebuild the shards with scripts/build_tfrecords.py.",
}


def verbose():
    """True when a mistake should show its traceback."""
    return bool(os.environ.get("SEG_VERBOSE")) or (
        FLAGS.is_parsed() and FLAGS.verbose)


def report(error):
    """Prints the one error line of `error` to stderr and exits with 1."""
    message = " ".join(str(error).split())  # one line, whatever it holds
    message += _ADVICE.get(type(error), "")
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def parse_flags(argv):
    """absl flag parsing whose errors follow the contract (one line)."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        report(UserError(f"{error} (--helpshort lists the flags)"))


def guard(main):
    """Wraps `main(argv)`: a `USER_ERRORS` exception becomes one line."""
    def guarded(argv):
        try:
            return main(argv)
        except USER_ERRORS as error:
            if verbose():
                raise
            report(error)
        except KeyboardInterrupt:
            if verbose():
                raise
            print("error: interrupted; a training run resumes from its last "
                  "checkpoint when the same command is run again.",
                  file=sys.stderr, flush=True)
            sys.exit(130)
    return guarded


def run(main):
    """`app.run(main)` with the error contract."""
    app.run(guard(main), flags_parser=parse_flags)


def size(name, values):
    """A (height, width) flag value: "H,W" or one value "S" for S x S.

    Args:
        name: the flag name (for the error).
        values: the flag's list of strings, or None.

    Returns:
        (height, width) ints, or None when the flag is unset.
    """
    if not values:
        return None
    try:
        sizes = [int(v) for v in values]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) <= 0:
        raise UserError(f"--{name}={','.join(values)}: give height,width or "
                        "one positive integer for a square.")
    return sizes[0], sizes[-1]
