"""Opens the files of a checkpoint that may be hostile: regular files only.

A checkpoint directory from someone else may hold a FIFO where a file
should be (an `open()` that never returns), a device, or a symbolic link
to a file elsewhere (whose content would be read, or leak through an error
message). The readers here refuse all of that before reading a byte:

* a file is opened only if it is a regular file, or a symbolic link to a
  regular file inside the checkpoint's own directory;
* opening never blocks (`O_NONBLOCK`), never follows a link in its last
  component (`O_NOFOLLOW`), and the opened file is checked again with
  `fstat`, so a file swapped between the look and the open is caught;
* what is read whole is bounded by a size cap.

A file swapped for a FIFO after these checks, before TF's own reader opens
it by name, is not caught: that needs an attacker writing into the
directory while it is being read.

Example:
    size = file_checks.check_regular(prefix + '.data-00000-of-00001',
                                     os.path.dirname(prefix), 'data shard')
    data = file_checks.read_regular(prefix + '.index',
                                    os.path.dirname(prefix), 'index', 1 << 26)
"""

import contextlib
import errno
import os
import re
import stat

from graphnet import errors

__all__ = [
  'inside',
  'check_regular',
  'read_regular',
  'read_error_detail',
  'unreadable',
]

_KINDS = (
  (stat.S_ISDIR, 'a directory'),
  (stat.S_ISFIFO, 'a FIFO (named pipe)'),
  (stat.S_ISSOCK, 'a socket'),
  (stat.S_ISCHR, 'a character device'),
  (stat.S_ISBLK, 'a block device'),
)
# Checksums and other numbers computed from a file's bytes are this long.
_LONG_NUMBER = re.compile(r'\d{6,}')
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC


def inside(path, directory):
  """Whether `path`, all links resolved, lies in or below `directory`."""
  real = os.path.realpath(path)
  top = os.path.realpath(directory or '.')
  return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _kind(mode):
  for test, name in _KINDS:
    if test(mode):
      return name
  return 'not a regular file'


def _refuse(path, what, found, fix='Use the checkpoint files as saved.'):
  shown = errors.printable(path)
  return errors.CheckpointError(
    f'{what} {shown}: expected a regular file, found {found}. {fix}',
    path=path,
  )


def _target(path, directory, what):
  """The path to open for `path`: itself, or its link target if confined.

  Raises:
    CheckpointError: missing, not a regular file, or a link leading out
      of `directory`.
  """
  try:
    info = os.lstat(path)
  except OSError as e:
    # A missing shard or index is what a save cut short leaves behind.
    state = ' (the checkpoint is incomplete)' if e.errno == errno.ENOENT else ''
    raise errors.CheckpointError(
      f'{what} {errors.printable(path)} cannot be read '
      f'({e.strerror or e}){state}. Pass the prefix of a complete '
      'checkpoint.',
      path=path,
    ) from e
  if stat.S_ISLNK(info.st_mode):
    if not inside(path, directory):
      raise _refuse(
        path,
        what,
        'a symbolic link to a file outside its directory '
        f'{errors.printable(directory)}',
        'graphnet reads a checkpoint only from its own directory; copy the '
        'file there if you trust it.',
      )
    path = os.path.realpath(path)
    try:
      info = os.lstat(path)
    except OSError as e:
      raise errors.CheckpointError(
        f'{what} {errors.printable(path)} is a dangling link '
        f'({e.strerror or e}).',
        path=path,
      ) from e
  if not stat.S_ISREG(info.st_mode):
    raise _refuse(path, what, _kind(info.st_mode))
  return path


@contextlib.contextmanager
def _opened(path, directory, what):
  """A file descriptor of regular file `path` (see module docstring)."""
  target = _target(path, directory, what)
  try:
    fd = os.open(target, _OPEN_FLAGS)
  except OSError as e:
    raise errors.CheckpointError(
      f'{what} {errors.printable(path)} cannot be opened ({e.strerror or e}).',
      path=path,
    ) from e
  try:
    mode = os.fstat(fd).st_mode
    # Swapped between the lstat and the open.
    if not stat.S_ISREG(mode):
      raise _refuse(path, what, _kind(mode))
    yield fd
  finally:
    os.close(fd)


def check_regular(path, directory, what):
  """Checks that `path` is a readable regular file; returns its size.

  Args:
    path: the file.
    directory: the checkpoint's directory; a link must stay inside it.
    what: the file's role for messages, e.g. 'data shard'.

  Returns:
    the size in bytes (int).

  Raises:
    CheckpointError: the file is missing, not a regular file, a link
      out of `directory`, or cannot be opened.
  """
  with _opened(path, directory, what) as fd:
    return os.fstat(fd).st_size


def _read_exactly(fd, size, path, what):
  chunks, left = [], size
  while left:
    chunk = os.read(fd, min(left, 1 << 24))
    if not chunk:
      raise errors.CheckpointError(
        f'{what} {errors.printable(path)} ended {left} bytes early while '
        'being read; it is being written or was cut short. Try again, or '
        'use another checkpoint.',
        path=path,
      )
    chunks.append(chunk)
    left -= len(chunk)
  return b''.join(chunks)


def read_regular(path, directory, what, max_bytes):
  """The whole content of regular file `path`, at most `max_bytes`.

  Args:
    path: the file.
    directory: the checkpoint's directory; a link must stay inside it.
    what: the file's role for messages, e.g. 'variable index'.
    max_bytes: the size cap (int); a larger file is refused unread.

  Returns:
    bytes.

  Raises:
    CheckpointError: see `check_regular`; or the file exceeds the cap.
  """
  with _opened(path, directory, what) as fd:
    size = os.fstat(fd).st_size
    if size > max_bytes:
      raise errors.CheckpointError(
        f'{what} {errors.printable(path)} is {size} bytes, more than the '
        f'{max_bytes} bytes graphnet reads for it; it is not a file saved '
        'by TF. Use another checkpoint.',
        path=path,
      )
    return _read_exactly(fd, size, path, what)


def read_error_detail(error):
  """One printable line saying why TF's reader failed, without file bytes.

  TF's data-loss message prints the checksum it computed over the bytes it
  read, which is enough to recover a short secret: such a message becomes
  a fixed text, and long numbers in any other are masked.

  Args:
    error: the exception TF's checkpoint reader raised.

  Returns:
    str: `<ExceptionType>: <detail>`, control characters escaped.
  """
  name = type(error).__name__
  text = errors.error_text(error)
  if name == 'DataLossError' or re.search('checksum|crc', text, re.I):
    return (
      f'{name}: the bytes of a tensor do not match the checksum its index '
      "records (a data file is damaged, cut short or another checkpoint's)"
    )
  return f'{name}: ' + _LONG_NUMBER.sub('<number>', text)


def unreadable(prefix, error, failed='read'):
  """The CheckpointError of checkpoint `prefix` that TF's reader refused.

  Args:
    prefix: the checkpoint prefix.
    error: the exception TF raised.
    failed: what could not be done: 'read' (listing, loading) or
      'restored' (a `Saver`).

  Returns:
    the `CheckpointError` (its `path` the prefix), to raise from `error`.
  """
  return errors.CheckpointError(
    f'Checkpoint {errors.printable(prefix)} cannot be {failed}: '
    f'{read_error_detail(error)}',
    path=prefix,
  )
