"""The trainer's log directory: made, checked and cleaned, never elsewhere.

`check_log_dir()` tells before anything is written whether `log_dir` can
be made; `prepare_log_dir()` makes it and `remove_empty()` takes back what
a refused run made; `remove_save_leftovers()` clears the temporary files of
saves a killed run left (only TF's temporary names for this directory's
checkpoints, and only when no save is writing them).

Example:
    check_log_dir(log_dir)          # raises ConfigError, creates nothing
    made = prepare_log_dir(log_dir)
    removed = remove_save_leftovers(log_dir)
"""

import contextlib
import errno
import os
import re
import shutil
import tempfile
import time

from graphnet import errors
from graphnet import options
from graphnet.checkpoints.state import BASENAME
from graphnet.data import temp_files

__all__ = [
  'check_log_dir',
  'prepare_log_dir',
  'remove_empty',
  'remove_save_leftovers',
]

# Temporary files of a save, by who writes them: the bundle writer
# (`.index` / `.data-*` / `.meta` + `.tempstate<n>`), gfile's atomic writes
# (`.meta`, the state file, `graph.pbtxt` + `.tmp<32 hex>`), `_write_state`
# (`checkpoint.tmp`), and a sharded save's `<prefix>_temp` directory.
_LEFTOVER = re.compile(
  rf'{re.escape(BASENAME)}-\d+'
  r'(\.(index|meta|data-\d+-of-\d+)\.tempstate\d+'
  r'|\.meta\.tmp[0-9a-f]{32}'
  r'|_temp(_[0-9a-f]+)?)'
  r'|(checkpoint|graph\.pbtxt)\.tmp[0-9a-f]{32}'
  r'|checkpoint\.tmp'
)
# What a sharded save's `_temp` directory holds.
_SHARD_PART = re.compile(
  r'part-\d+-of-\d+\.(index|data-\d+-of-\d+)(\.tempstate\d+)?'
)

# A temporary file unmodified this long belongs to no running save (a
# graphnet checkpoint is written in well under a second).
_LEFTOVER_AGE_SECS = 5.0


def check_log_dir(log_dir, names=options.as_argument):
  """Checks that `prepare_log_dir` can make `log_dir`, creating nothing.

  Probes with a temporary file in `log_dir`, or in its nearest existing
  ancestor (root ignores permission bits, not a read-only or special file
  system), so a bad log_dir is refused before any data is read or copied.
  Messages name the field by `names` (`options.as_argument`, or
  `options.as_flag` on the command line).

  Raises:
    ConfigError: `log_dir` cannot be created or is not writable.
  """
  path = os.path.abspath(log_dir)
  while not os.path.lexists(path):
    path = os.path.dirname(path)
  try:
    if not os.path.isdir(path):
      raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
    with tempfile.TemporaryFile(dir=path):
      pass
  except OSError as e:
    # An existing directory that refuses new files (/proc, /sys) reports
    # ENOENT, which would read as if the directory itself were missing.
    why = e.strerror
    if os.path.isdir(path) and e.errno in (errno.ENOENT, errno.EROFS):
      why = f'the directory exists but accepts no new files ({e.strerror})'
    raise errors.ConfigError(
      f'{names("log_dir")} {log_dir} cannot be created or written: {path}: '
      f'{why}. Expected a writable directory (or a path where one '
      'can be made).'
    ) from e


def prepare_log_dir(log_dir, names=options.as_argument):
  """Creates `log_dir` for checkpoints; returns the directories made.

  Messages name the field by `names`, as in `check_log_dir`.

  Returns:
    the directories created, deepest first (for `remove_empty`).

  Raises:
    ConfigError: `log_dir` cannot be created or is not writable.
  """
  made = []
  path = os.path.abspath(log_dir)
  while path and not os.path.lexists(path) and path != os.path.dirname(path):
    made.append(path)
    path = os.path.dirname(path)
  try:
    os.makedirs(log_dir, exist_ok=True)
  except OSError as e:
    raise errors.ConfigError(
      f'{names("log_dir")} {log_dir} cannot be created: {e.strerror}. '
      'Expected a writable directory (or a path where one can be made).'
    ) from e
  if not os.access(log_dir, os.W_OK | os.X_OK):
    raise errors.ConfigError(
      f'{names("log_dir")} {log_dir} is not writable; choose another '
      f'{names("log_dir")}.'
    )
  return made


def remove_empty(directories):
  """Removes the directories `prepare_log_dir` made, if still empty."""
  for path in directories:
    with contextlib.suppress(OSError):
      os.rmdir(path)


def remove_save_leftovers(log_dir, min_age_secs=_LEFTOVER_AGE_SECS):
  """Removes the temporary files of saves killed before they completed.

  A SIGKILL during a save leaves e.g. `model.ckpt-300.data-00000-of-00001.
  tempstate123` behind for ever: only a completed save renames it. Only
  names of TF's (and `Saver`'s) temporary files in `log_dir` itself are
  considered, and only those unmodified for `min_age_secs`, so a save in
  progress keeps its files. Call it while holding the log_dir.

  Args:
    log_dir: the directory about to be trained in.
    min_age_secs: seconds since a file's last change before it counts as
      abandoned.

  Returns:
    the names removed (list of str), sorted.
  """
  removed = []
  now = time.time()
  for name, _ in temp_files.named_like(log_dir, _LEFTOVER):
    path = os.path.join(log_dir, name)
    try:
      if now - os.lstat(path).st_mtime < min_age_secs:
        continue
      if not os.path.isdir(path) or os.path.islink(path):
        os.remove(path)
      elif all(_SHARD_PART.fullmatch(n) for n in os.listdir(path)):
        shutil.rmtree(path)
      else:
        continue  # A directory of other files is not a save's.
    except OSError:
      # Gone already, or not ours to remove: leave it.
      continue
    removed.append(name)
  return removed
