"""Runs a script's `main` inside the test process under the scripts' error
contract (`scripts/_cli.py`): no interpreter or TensorFlow start-up per call.

Each call imports the script afresh and removes the flags it defined
afterwards, so scripts defining the same flag names run one after another.
"""

import collections
import contextlib
import importlib.util
import io
import os
import sys

from absl import flags

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "scripts")
Result = collections.namedtuple("Result", "code stdout stderr")


def call_script(name, *args):
    """Runs `scripts/<name>.py args...` in this process.

    Returns:
        Result(code, stdout, stderr): the exit status and what the script
        printed (absl log lines are not captured). Exceptions that are not a
        user's mistake propagate, traceback included.
    """
    if SCRIPTS not in sys.path:
        sys.path.insert(0, SCRIPTS)
    import _cli
    before = set(flags.FLAGS)
    spec = importlib.util.spec_from_file_location(
        f"_script_{name}", os.path.join(SCRIPTS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    out, err = io.StringIO(), io.StringIO()
    try:
        spec.loader.exec_module(module)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = _exit_code(_cli, module.main, [name, *args])
    finally:
        for flag in set(flags.FLAGS) - before:
            delattr(flags.FLAGS, flag)
        flags.FLAGS.unparse_flags()
    return Result(code, out.getvalue(), err.getvalue())


def _exit_code(cli, main, argv):
    try:
        cli.guard(main)(cli.parse_flags(argv))
    except SystemExit as exit_:
        return exit_.code or 0
    return 0


def assert_one_line_error(result, *names):
    """The contract: exit 1, stderr's last line names every one of `names`,
    no traceback, one line in all."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.code == 1, result
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[-1].startswith("error: ")
    for name in names:
        assert name in lines[-1], (name, lines[-1])
    return lines[-1]
