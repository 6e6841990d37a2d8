"""Temp files renamed into place, and the leftovers of killed writers.

`create_temp_file` makes a hidden file beside its final name, named after
the machine and process writing it; `remove_stale_temp_files` removes
such files whose process is gone (or that are a day old), never a file a
live process is still writing. The IDX writers and the downloads use them,
so a data directory never holds a partial file under a final name.

Example:
    fd, tmp = temp_files.create_temp_file(directory, 'train.gz')
    ...write fd, then os.replace(tmp, final path)...
    temp_files.remove_stale_temp_files(directory)  # on the next run
"""

import hashlib
import os
import re
import secrets
import socket
import stat
import time

__all__ = ['create_temp_file', 'remove_stale_temp_files', 'named_like']

# What `create_temp_file` names its files: hidden, the final name, the
# machine and pid that write it.
_TEMP_NAME = re.compile(
  r'\..+\.graphnet-(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[0-9a-f]{12}\.tmp'
)
# Tells this machine's temp files from those of other machines sharing the
# directory, whose pids mean nothing here.
_HOST_TAG = hashlib.md5(socket.gethostname().encode()).hexdigest()[:8]
# A temp file untouched this long is a leftover even if its pid is alive.
_STALE_TEMP_SECONDS = 24 * 3600


def create_temp_file(directory, name):
  """Creates a new, empty hidden file in `directory` to be renamed to `name`.

  Unlike `tempfile.mkstemp` (mode 0600) the file gets the usual permissions
  (0666 minus the umask), so it can be renamed into place as is. The name
  records the creating process, so `remove_stale_temp_files` can tell a
  leftover of a killed run from a file still being written.

  Args:
    directory: an existing directory.
    name: the final file name; the temp name is
      `.{name}.graphnet-{host}-{pid}-{random}.tmp`, `host` 8 hex digits
      naming this machine, `random` 12.

  Returns:
    (fd, path): an open, writable OS-level file descriptor and its path.

  Raises:
    OSError: the file cannot be created.
  """
  flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0)
  while True:
    owner = f'{_HOST_TAG}-{os.getpid()}'
    path = os.path.join(
      directory, f'.{name}.graphnet-{owner}-{secrets.token_hex(6)}.tmp'
    )
    try:
      return os.open(path, flags, 0o666), path
    except FileExistsError:
      continue


def _process_is_gone(pid):
  """True if no process `pid` runs on this machine (POSIX only)."""
  if os.name != 'posix' or pid == os.getpid():
    # On Windows os.kill would terminate the process instead of probing it.
    return False
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return True
  except OSError:
    return False  # EPERM: it exists, under another user.
  return False


def remove_stale_temp_files(directory, max_age=_STALE_TEMP_SECONDS):
  """Removes temp files that killed graphnet processes left in `directory`.

  Only names `create_temp_file` makes are considered, and only regular
  files (never links or directories); one is removed when the process that
  created it on this machine no longer runs, or when it is older than
  `max_age` (its pid may have been reused, or it comes from another machine
  sharing the directory). Files still being written by a live process stay.

  Args:
    directory: the directory to clean; a missing one is ignored.
    max_age: seconds since the last write after which a temp file is stale
      whatever its pid.

  Returns:
    The paths removed (list of str).
  """
  removed = []
  now = time.time()
  for temp_name, match in named_like(directory, _TEMP_NAME):
    path = os.path.join(directory, temp_name)
    try:
      info = os.lstat(path)
      if not stat.S_ISREG(info.st_mode):
        continue
      dead = match['host'] == _HOST_TAG and _process_is_gone(int(match['pid']))
      if dead or now - info.st_mtime > max_age:
        os.remove(path)
        removed.append(path)
    except OSError:
      continue  # Gone already, or not ours to remove.
  return removed


def named_like(directory, pattern):
  """The entries of `directory` whose whole name `pattern` matches.

  Args:
    directory: a directory; one that cannot be listed has no entries.
    pattern: a compiled regular expression.

  Returns:
    (name, match) pairs, sorted by name.
  """
  try:
    names = os.listdir(directory)
  except OSError:
    return []
  return [(n, m) for n in sorted(names) if (m := pattern.fullmatch(n))]
