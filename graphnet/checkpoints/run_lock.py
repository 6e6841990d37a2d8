"""One trainer per log_dir: an advisory lock file held for the whole run.

Two trainers writing one log_dir interleave their checkpoints under the
same names and both exit 0. `LogDirLock` takes an exclusive `flock` on
`<log_dir>/.graphnet.lock` and writes the holder's pid, host and start time
into it, so a second trainer is refused in one line naming the holder. The
kernel drops a `flock` when its process ends in any way (SIGKILL, a crash),
so a lock is never left held by a dead process; the file it leaves behind
still names that process, and the next trainer says that it takes it over.
Readers (`mnist_eval`, `predict`, `Predictor`) take no lock.

POSIX only (`fcntl`). On network file systems `flock` is only as good as
the server's lock support.

Example:
    with run_lock.LogDirLock(log_dir, printer=print):
      train(log_dir)  # No other trainer can hold log_dir meanwhile.
"""

import datetime
import fcntl
import os
import socket
import time

from graphnet import errors
from graphnet import options

__all__ = ['LOCK_NAME', 'LogDirLock', 'read_holder']

# Hidden, so listings of checkpoints and events never show it.
LOCK_NAME = '.graphnet.lock'
# A holder writes its record right after taking the lock; a refused
# process that reads the file in between retries for this long.
_RECORD_WAIT_SECONDS = 0.2
_RECORD_POLL_SECONDS = 0.02


def _remove_quietly(path):
  try:
    os.remove(path)
  except OSError:
    pass  # Gone already or not removable; the lock is dropped regardless.


def _print_flush(line):
  print(line, flush=True)


def _record():
  """This process's holder record: `pid`, `host`, `since` lines."""
  since = datetime.datetime.now(datetime.timezone.utc)
  return (
    f'pid {os.getpid()}\n'
    f'host {socket.gethostname()}\n'
    f'since {since.strftime("%Y-%m-%d %H:%M:%S UTC")}\n'
  )


def _parse(text):
  """The fields of a holder record: {'pid': int, 'host': str, 'since': str}.

  Missing or malformed fields are left out; an empty file reads as {}.
  """
  fields = {}
  for line in text.splitlines():
    key, _, value = line.partition(' ')
    if key in ('host', 'since') and value:
      fields[key] = value
    elif key == 'pid' and value.isdigit():
      fields[key] = int(value)
  return fields


def _read_fd(fd):
  try:
    return _parse(os.pread(fd, 4096, 0).decode('utf-8', 'replace'))
  except OSError:
    return {}


def read_holder(log_dir):
  """The record of `log_dir`'s lock file: {'pid', 'host', 'since'} or {}.

  For messages only: the record says who took the lock last, not whether
  the lock is held now.
  """
  try:
    with open(os.path.join(log_dir, LOCK_NAME), 'rb') as f:
      return _parse(f.read(4096).decode('utf-8', 'replace'))
  except OSError:
    return {}


def _describe(holder):
  """'pid 123 on host h (since ...)' for a message."""
  if 'pid' not in holder:
    return 'another process (its pid is not recorded)'
  text = f'pid {holder["pid"]} on host {holder.get("host", "?")}'
  if 'since' in holder:
    text += f' (since {holder["since"]})'
  return text


def _is_gone(holder):
  """True if the holder ran on this host and its pid no longer exists."""
  if holder.get('host') != socket.gethostname():
    return False
  try:
    os.kill(holder['pid'], 0)
  except ProcessLookupError:
    return True
  except OSError:
    return False  # EPERM: that pid runs, under another user.
  return False


class LogDirLock:
  """Context manager holding the exclusive lock on a log_dir.

  `__enter__` creates or opens `<log_dir>/.graphnet.lock`, takes an
  exclusive non-blocking `flock` on it and writes this process's record.
  `__exit__` (also on an exception) removes the file if it is still this
  process's, then drops the lock. The log_dir must exist.

  Not re-entrant: a second `LogDirLock` on the same log_dir in the same
  process is refused like any other holder (the message names this pid),
  and entering one object twice raises `LogDirLockedError`.
  """

  def __init__(self, log_dir, printer=_print_flush, names=options.as_argument):
    """Stores the arguments; takes nothing yet.

    Args:
      log_dir: the directory to lock (the trainer's log_dir).
      printer: function taking one line, called once when a stale lock of
        a dead process is taken over.
      names: how messages name the `log_dir` field (`options.as_argument`,
        or `options.as_flag` on the command line).
    """
    self._log_dir = log_dir
    self._named = f'{names("log_dir")} {log_dir}'
    self._another = f'another {names("log_dir")}'
    self._path = os.path.join(log_dir, LOCK_NAME)
    self._printer = printer
    self._fd = None

  @property
  def path(self):
    """The lock file's path."""
    return self._path

  def __enter__(self):
    self.acquire()
    return self

  def __exit__(self, exc_type, exc_value, traceback):
    self.release()

  def acquire(self):
    """Takes the lock and writes this process's record into the file.

    Raises:
      LogDirLockedError: another process holds the lock, or this object
        already does.
      ConfigError: the lock file cannot be created or written (e.g. a
        read-only log_dir).
    """
    if self._fd is not None:
      raise errors.LogDirLockedError(
        f'{self._named} is already locked by this LogDirLock; enter it once.',
        path=self._log_dir,
        pid=os.getpid(),
        host=socket.gethostname(),
      )
    while True:
      fd = self._open()
      try:
        self._lock(fd)
        # A holder releasing just now unlinks the file we opened: our lock
        # would then be on a name nobody else sees. Start again.
        if self._is_current(fd):
          break
      except BaseException:
        os.close(fd)
        raise
      os.close(fd)
    try:
      self._take_over(fd)
    except BaseException:
      # Our record may be half written: remove the file while we hold it.
      if self._is_current(fd):
        _remove_quietly(self._path)
      os.close(fd)
      raise
    self._fd = fd

  def release(self):
    """Removes the lock file if it is still ours, then drops the lock.

    Does nothing if the lock is not held. A file some other process made
    after ours was removed (by hand) is left alone.
    """
    fd, self._fd = self._fd, None
    if fd is None:
      return
    try:
      if self._is_current(fd) and _read_fd(fd).get('pid') == os.getpid():
        _remove_quietly(self._path)
    finally:
      os.close(fd)  # Drops the flock.

  def _open(self):
    try:
      return os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
      raise errors.ConfigError(
        f'{self._named} is not writable: cannot create its lock '
        f'file {LOCK_NAME} ({e.strerror}); choose {self._another}.'
      ) from None

  def _lock(self, fd):
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = self._wait_for_record(fd)
      raise errors.LogDirLockedError(
        f'{self._named} is in use by {_describe(holder)}; stop '
        f'that trainer or use {self._another}.',
        path=self._log_dir,
        pid=holder.get('pid'),
        host=holder.get('host'),
      ) from None

  def _wait_for_record(self, fd):
    """The holder's record, waiting briefly for one being written."""
    deadline = time.monotonic() + _RECORD_WAIT_SECONDS
    holder = _read_fd(fd)
    while 'pid' not in holder and time.monotonic() < deadline:
      time.sleep(_RECORD_POLL_SECONDS)
      holder = _read_fd(fd)
    return holder

  def _is_current(self, fd):
    """True if `self._path` still names the file open as `fd`."""
    try:
      on_disk = os.stat(self._path)
    except FileNotFoundError:
      return False
    mine = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)

  def _take_over(self, fd):
    """Reports a previous holder's leftover record, then writes ours."""
    previous = _read_fd(fd)
    if 'pid' in previous:
      why = (
        'no longer running' if _is_gone(previous) else 'it holds no lock now'
      )
      self._printer(
        f'{self._named}: taking over the stale lock of pid '
        f'{previous["pid"]} on host {previous.get("host", "?")} ({why}).'
      )
    record = _record().encode()
    try:
      os.ftruncate(fd, 0)
      os.pwrite(fd, record, 0)
    except OSError as e:
      # The file name on the cause lets disk_full name what could not be
      # written.
      e.filename = e.filename or self._path
      raise errors.ConfigError(
        f'{self._named}: cannot write its lock file {LOCK_NAME} '
        f'({e.strerror}); free space or choose {self._another}.'
      ) from e
