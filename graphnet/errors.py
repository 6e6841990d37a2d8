"""The errors graphnet raises, in one small hierarchy.

Every error a user can cause (a bad file, a bad argument, a checkpoint of
another model, a diverging loss) is a subclass of `GraphnetError` and of the
builtin `ValueError` or `RuntimeError` that fits it, so callers that already
catch those keep working. Messages name the file, flag or tensor, say what
was expected and what was found, and how to fix it. Always format the
message before raising.

Example:
    try:
      data = input_data.read_data_sets('/tmp/mnist')
    except errors.DataFormatError as e:
      print('bad data file:', e.path, e)
"""

import signal

__all__ = [
  'GraphnetError',
  'DataError',
  'DataFormatError',
  'ChecksumError',
  'DownloadError',
  'ConfigError',
  'CheckpointError',
  'CheckpointMismatchError',
  'UnsafeGraphError',
  'InputShapeError',
  'DivergenceError',
  'ClusterError',
  'ClusterRuntimeError',
  'PredictorClosedError',
  'PredictionTimeoutError',
  'LogDirLockedError',
  'DiskFullError',
  'ExportError',
  'GraphError',
  'TrainingInterruptedError',
  'NotProvidedError',
  'printable',
  'error_text',
]

# Longest text of a file shown in a message; the rest is cut.
_PRINTABLE_LIMIT = 200


class GraphnetError(Exception):
  """Base class of every error graphnet raises on purpose."""


class DataError(GraphnetError, ValueError):
  """A data set argument or data file is not usable.

  Attributes:
    path: the file or directory concerned, or None for an argument.
  """

  def __init__(self, message, path=None):
    super().__init__(message)
    self.path = path


class DataFormatError(DataError):
  """A data file is not a well-formed (gzipped) IDX file."""


class ChecksumError(DataError):
  """A file's content does not match its expected checksum."""


class DownloadError(DataError):
  """A file could not be downloaded (host unreachable, HTTP error, ...)."""


class ConfigError(GraphnetError, ValueError):
  """A configuration value (flag or argument) is invalid.

  Attributes:
    field: the config field (or argument) at fault, e.g. 'keep_prob', or
      None; entry points translate it to the flag that sets it.
  """

  def __init__(self, message, field=None):
    super().__init__(message)
    self.field = field


class CheckpointError(GraphnetError, ValueError):
  """A checkpoint or `.meta` graph is missing, unreadable or unusable.

  Attributes:
    path: the checkpoint prefix, file or directory concerned.
  """

  def __init__(self, message, path=None):
    super().__init__(message)
    self.path = path


class CheckpointMismatchError(CheckpointError):
  """A checkpoint holds a different model than the one being built."""


class UnsafeGraphError(GraphnetError, ValueError):
  """A `.meta` graph holds ops that are not allowed for inference."""


class InputShapeError(GraphnetError, ValueError):
  """Images passed for prediction have the wrong shape, dtype or range."""


class DivergenceError(GraphnetError, RuntimeError):
  """The training loss became NaN or infinite."""


class ClusterError(GraphnetError, ValueError):
  """A distributed-training setting (hosts, job name, task) is invalid."""


class ClusterRuntimeError(GraphnetError, RuntimeError):
  """A running cluster cannot go on: a task it needs stopped answering.

  Also raised when a cluster piece is used out of order.
  """


class PredictorClosedError(GraphnetError, RuntimeError):
  """A closed `Predictor` was asked to predict."""


class PredictionTimeoutError(GraphnetError, RuntimeError):
  """A prediction run exceeded its deadline."""


class GraphError(GraphnetError, RuntimeError):
  """The graph lacks an element a hook or builder needs (the global step)."""


class TrainingInterruptedError(GraphnetError, RuntimeError):
  """Training stopped early because the process received a signal.

  Attributes:
    signum: the signal number (`signal.SIGINT`, `signal.SIGTERM`).
    step: the global step saved, or None if no checkpoint exists.
    checkpoint: the checkpoint prefix saved at that step, or None.
    exit_code: the shell's convention for death by that signal, 128 +
      signum (130 for SIGINT, 143 for SIGTERM).
  """

  def __init__(self, signum, step, checkpoint):
    name = signal.Signals(signum).name
    if checkpoint:
      where = (
        f'checkpoint saved to {checkpoint}; run the same command again to '
        'resume from it.'
      )
    else:
      where = 'no checkpoint could be saved.'
    super().__init__(f'Interrupted by {name} at step {step}; {where}')
    self.signum = signum
    self.step = step
    self.checkpoint = checkpoint
    self.exit_code = 128 + signum


class LogDirLockedError(GraphnetError, RuntimeError):
  """Another live process holds the lock on a log_dir (see `run_lock`).

  Attributes:
    path: the log_dir.
    pid: the holder's process id, or None if it is not recorded yet.
    host: the holder's host name, or None.
  """

  def __init__(self, message, path=None, pid=None, host=None):
    super().__init__(message)
    self.path = path
    self.pid = pid
    self.host = host


class DiskFullError(GraphnetError, RuntimeError):
  """A write failed because the disk (or the user's quota) is full.

  Attributes:
    path: the file that could not be written, or None if TF did not say.
    last_checkpoint: the newest complete checkpoint prefix, or None.
  """

  def __init__(self, message, path=None, last_checkpoint=None):
    super().__init__(message)
    self.path = path
    self.last_checkpoint = last_checkpoint


class ExportError(GraphnetError, RuntimeError):
  """An exporter of `train_and_evaluate` failed; training was kept.

  Attributes:
    names: the names of the exporters whose last export failed.
  """

  def __init__(self, message, names=()):
    super().__init__(message)
    self.names = list(names)


def printable(text, limit=_PRINTABLE_LIMIT, backslashes=True):
  r"""`text` safe to print on one line: control characters escaped.

  The one escaping helper for text that comes from a file or the user (op
  and node names, tensor keys, paths, `Assert` and `CheckNumerics`
  messages): printed raw, a newline could fake a line of output and an
  escape sequence could rewrite the terminal. Printable characters of any
  script stay as they are.

  Args:
    text: str (undecodable bytes held as surrogate escapes) or bytes.
    limit: longest result in characters before escaping, or None; longer
      text is cut and ends with '...'.
    backslashes: also double backslashes, so that escapes cannot be
      faked; False for text whose parts are already escaped (a message).

  Returns:
    str without control, format or separator characters: `\n`, `\t`,
    `\r`, `\\`, `\xNN` (a control character or an undecodable byte),
    `\uNNNN`, `\UNNNNNNNN`.
  """
  if isinstance(text, bytes):
    text = text.decode('utf-8', 'surrogateescape')
  text = str(text)
  cut = limit is not None and len(text) > limit
  if cut:
    text = text[:limit]
  shown = ''.join(_printable_char(c, backslashes) for c in text)
  return shown + '...' if cut else shown


def _printable_char(c, backslashes):
  if c == '\\':
    return '\\\\' if backslashes else c
  if c.isprintable():
    return c
  code = ord(c)
  if 0xDC80 <= code <= 0xDCFF:  # An undecodable byte (surrogateescape).
    return f'\\x{code - 0xDC00:02x}'
  named = {'\n': '\\n', '\t': '\\t', '\r': '\\r'}
  if c in named:
    return named[c]
  if code < 0x100:
    return f'\\x{code:02x}'
  return f'\\u{code:04x}' if code < 0x10000 else f'\\U{code:08x}'


class NotProvidedError(GraphnetError, AttributeError):
  """A TF1 API name that graphnet.compat.v1 does not provide.

  Raised on attribute access (`tf.contrib.tpu`, `tf.layers.conv3d_transpose`),
  so `hasattr()` and `getattr(..., default)` treat it as missing.

  Attributes:
    name: the API asked for, e.g. 'tf.contrib.tpu'.
  """

  def __init__(self, message, name=None):
    super().__init__(message)
    self.name = name


def error_text(error, limit=_PRINTABLE_LIMIT):
  r"""The message of exception `error`, escaped on one line (`printable`).

  For errors whose message quotes a file, e.g. TF's `OpError` of an
  `Assert` or `CheckNumerics` of an untrusted graph. TF's "Graph execution
  error:" header is left out; the lines after it are joined by `\n`.

  Args:
    error: an exception (TF's errors carry their text in `.message`).
    limit: see `printable`.

  Returns:
    str.
  """
  text = getattr(error, 'message', None) or str(error)
  text = text.strip()
  header = 'Graph execution error:'
  if text.startswith(header):
    text = text[len(header) :].strip()
  return printable(text, limit)
