r"""A quiet command line: TensorFlow's start-up chatter hidden unless asked for.

On a machine without a GPU, importing TensorFlow prints absl's pre-init
banner twice, oneDNN and "Could not find cuda drivers" INFO lines and an
`E0000 ... failed call to cuInit: ... UNKNOWN ERROR (303)` line that looks
like a failure; TF then logs `INFO:tensorflow:` lines (checkpoint hooks,
"Restoring parameters from ...") and deprecation warnings about its own
internals. None of it helps someone training MNIST. `setup()`, called by
an entry point once its flags are parsed and checked (so that a usage
error comes back before TF's seconds of loading), before anything imports
TensorFlow:

- imports TensorFlow through `tf_loader` (Keras is left to load when
  first used) and lets it look for GPUs, with file descriptor 2
  redirected to a temporary file, because the C++ lines are written
  before TF_CPP_MIN_LOG_LEVEL is read; then replays every captured line
  that is not known noise, so a real import error still shows;
- sets TF_CPP_MIN_LOG_LEVEL to 1 (C++ warnings and errors still show)
  unless the environment already sets it;
- sets the `tensorflow` logger to WARNING and drops TF's deprecation
  warnings and TensorBoard's "Found more than one graph event" warnings;
- gives TF's logger its own handler (`INFO:tensorflow:...` lines) even
  though absl's `app.run` has configured logging, and stops TF's records
  from also reaching absl's handler (every line would print twice).

With absl's `-v 1` / `--verbosity=1` on the command line, or
`GRAPHNET_VERBOSE=1` in the environment, nothing is hidden (the records
still print once).

Example (an entry point's `main`, TF's modules imported after setup):

    def main(argv):
      config = config_from_flags()
      quiet.setup()
      from graphnet.training import trainer  # noqa: PLC0415

      trainer.run_training(config)
"""

import contextlib
import logging
import os
import re
import sys
import tempfile

from graphnet import tf_loader

__all__ = ['VERBOSE_ENV', 'setup', 'verbose_requested', 'without_noise']

# Set to 1 (or any positive integer) to see all of TensorFlow's logs.
VERBOSE_ENV = 'GRAPHNET_VERBOSE'

_VERBOSITY_FLAGS = ('v', 'verbosity')

# `I1121 21:47:28.874102   27082 port.cc:153] `: level, date, time, thread,
# C++ source file and line.
_CPP_PREFIX = r'[{levels}]\d{{4}} [\d:.]+ +\d+ [\w.-]+\.(cc|h):\d+\] '

# Lines TensorFlow writes to fd 2 while it loads and looks for devices.
# Only these are dropped; anything else captured is replayed.
_NOISE_LINES = tuple(
  re.compile(pattern)
  for pattern in (
    # absl's banner, once per shared library that logs before InitializeLog.
    r'WARNING: All log messages before absl::InitializeLog\(\) is called '
    r'are written to STDERR$',
    # Any C++ INFO line (oneDNN, cudart_stub, cpu_feature_guard, ...):
    # TF_CPP_MIN_LOG_LEVEL=1 hides these once logging is initialised.
    # Before that the time reads `00:00:<seconds since 1970>`.
    _CPP_PREFIX.format(levels='I'),
    # No CUDA driver (303) or no GPU: normal on a CPU machine.
    _CPP_PREFIX.format(levels='EW') + r'failed call to cuInit: '
    r'.*(UNKNOWN ERROR \(303\)|CUDA_ERROR_NO_DEVICE)',
    # Second line of cpu_feature_guard's INFO message.
    r'To enable the following instructions: .* rebuild TensorFlow with the '
    r'appropriate compiler flags\.$',
  )
)

# TensorBoard's EventAccumulator warns whenever a run holds several graphs,
# which every resumed graphnet run does.
_TENSORBOARD_NOISE = (
  'Found more than one graph event per run',
  'Found more than one metagraph event per run',
)

_DEPRECATION_FILE = os.path.join(
  'tensorflow', 'python', 'util', 'deprecation.py'
)

_done = False


def _flag_value(argv, name):
  """The last value of absl flag -name/--name in argv, or None."""
  value = None
  for i, arg in enumerate(argv):
    if arg == '--':
      break
    key, eq, rest = arg.lstrip('-').partition('=')
    if not arg.startswith('-') or key != name:
      continue
    if eq:
      value = rest
    elif i + 1 < len(argv):
      value = argv[i + 1]
  return value


def _positive(text):
  try:
    return int(text) > 0
  except (TypeError, ValueError):
    return False


def verbose_requested(argv=None, environ=None):
  """Whether the user asked to see TensorFlow's logs.

  Reads the command line before absl parses it (TF must be imported
  first), so `--flagfile` contents are not seen.

  Args:
    argv: command line, program name first; default `sys.argv`.
    environ: environment mapping; default `os.environ`.

  Returns:
    True if `-v`/`--verbosity` (either with `=` or a separate value) is
    a positive integer, or `GRAPHNET_VERBOSE` is.
  """
  argv = sys.argv if argv is None else argv
  environ = os.environ if environ is None else environ
  if _positive(environ.get(VERBOSE_ENV)):
    return True
  return any(_positive(_flag_value(argv[1:], n)) for n in _VERBOSITY_FLAGS)


def without_noise(text):
  """Drops the known start-up noise lines from captured stderr text.

  Args:
    text: str, what TensorFlow wrote to fd 2.

  Returns:
    str, the other lines, in order, each with its line ending.
  """
  kept = [
    line
    for line in text.splitlines(keepends=True)
    if not any(p.match(line) for p in _NOISE_LINES)
  ]
  return ''.join(kept)


class _DropRecords(logging.Filter):
  """Drops log records that are known noise (a logging.Filter)."""

  def __init__(self, deprecation_file=None, prefixes=()):
    super().__init__()
    self._deprecation_file = deprecation_file
    self._prefixes = tuple(prefixes)

  def filter(self, record):
    if self._deprecation_file and record.pathname.endswith(
      self._deprecation_file
    ):
      return False
    return not str(record.msg).startswith(self._prefixes)


def _import_tensorflow_capturing_stderr():
  """Imports TF and finds devices with fd 2 captured; replays non-noise."""
  sys.stderr.flush()
  try:
    saved_fd = os.dup(2)
  except OSError:
    # No usable stderr (a daemon): nothing to hide it from.
    saved_fd = None
  with tempfile.TemporaryFile() as captured:
    if saved_fd is not None:
      os.dup2(captured.fileno(), 2)
    try:
      tf = tf_loader.import_tensorflow()
      # Looking for GPUs is when a CPU machine logs the cuInit failure.
      tf.config.list_physical_devices()
    finally:
      if saved_fd is not None:
        sys.stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        captured.seek(0)
        text = captured.read().decode('utf-8', errors='replace')
        sys.stderr.write(without_noise(text))
        sys.stderr.flush()
  return tf


@contextlib.contextmanager
def _root_logger_unconfigured():
  """Detaches the root logger's handlers for the duration of the block.

  TF gives its logger a handler of its own (`INFO:tensorflow:...` lines)
  only when the root logger has none; absl's `app.run` attaches its
  handler before parsing the flags, and entry points load TF after that.
  """
  root = logging.getLogger()
  handlers = root.handlers[:]
  for handler in handlers:
    root.removeHandler(handler)
  try:
    yield
  finally:
    for handler in handlers:
      root.addHandler(handler)


def _print_tensorflow_records_once(tf):
  """TF's logger prints with its own handler; absl's must not repeat it."""
  logger = tf.get_logger()
  # Without its own handler (the root logger was set up first) TF's records
  # are printed only by propagating.
  if logger.handlers:
    logger.propagate = False
  return logger


def setup(argv=None):
  """Imports TensorFlow quietly unless the user asked for its logs.

  Call before anything imports TensorFlow; later calls only report.

  Args:
    argv: command line, program name first; default `sys.argv`.

  Returns:
    True if verbose (nothing hidden), False if quiet.

  Side effects:
    Imports TensorFlow; sets TF_CPP_MIN_LOG_LEVEL=1 in `os.environ` if
    quiet and unset; configures the `tensorflow` and `tensorboard` Python
    loggers.
  """
  global _done
  verbose = verbose_requested(argv)
  if _done:
    return verbose
  _done = True
  if verbose:
    with _root_logger_unconfigured():
      tf = tf_loader.import_tensorflow()
      _print_tensorflow_records_once(tf)
    return True
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
  with _root_logger_unconfigured():
    tf = _import_tensorflow_capturing_stderr()
    logger = _print_tensorflow_records_once(tf)
  logger.setLevel(logging.WARNING)
  logger.addFilter(_DropRecords(deprecation_file=_DEPRECATION_FILE))
  logging.getLogger('tensorboard').addFilter(
    _DropRecords(prefixes=_TENSORBOARD_NOISE)
  )
  return False
