"""A full disk during training: one clear line, and no half-written files.

When the disk (or the user's quota) fills, TF reports it in several shapes,
depending on which writer hit it (observed with TF 2.21 on a full tmpfs):

- `Saver.save`, checkpoint data (ops `SaveV2`, `MergeV2Checkpoints`):
  `tf.errors.ResourceExhaustedError`, a message of many lines whose one
  line `<file>; No space left on device` names a temp file such as
  `model.ckpt-60.data-00000-of-00001.tempstate<digits>`, and a hint about
  out-of-memory allocations that does not apply.
- `.meta`, `graph.pbtxt`, the `checkpoint` state file (`tf.io.gfile`
  atomic writes): `ResourceExhaustedError('<file>.tmp<32 hex>; No space
  left on device')`, the temp file left behind.
- The events writer (`tf.summary.FileWriter`): when the disk is full as
  the events file starts, the first event is dropped (a C++ log line only)
  and the next `flush` raises a builtin `RuntimeError('<events file>; No
  space left on device ... Failed to flush 1 events ...')`, which its
  writer thread also prints as a traceback. Once the file has started,
  events that no longer fit are dropped without any error.
- Python writers (the bundled data copy): `OSError` with errno ENOSPC,
  which `input_data` wraps in an `errors.DataError`.

`disk_full_error()` turns any of them into one `errors.DiskFullError`
naming the file and the last good checkpoint; `remove_partial_save()`
removes what a failed save left in the log_dir. `training_run()` is the
block a trainer (graphnet's, the Estimator's) writes its log_dir in: the
log_dir's lock held, and a full disk reported so.

Example:
    made = log_dirs.prepare_log_dir(log_dir)
    with disk_full.training_run(log_dir, made, lock=True, printer=print):
      train(log_dir)                 # a full disk raises DiskFullError
"""

import contextlib
import errno
import os
import re
import shutil
import stat
import threading
import time

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import log_dirs
from graphnet.checkpoints import run_lock
from graphnet.checkpoints import state as checkpoints

__all__ = [
  'full_disk_cause',
  'last_good_checkpoint',
  'disk_full_error',
  'remove_partial_save',
  'quiet_writer_threads',
  'training_run',
]

# The prefix MonitoredTrainingSession's checkpoint hook saves under.
_STATE_FILE = 'checkpoint'
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# What TF's messages say, strerror of ENOSPC and EDQUOT.
_FULL_TEXTS = tuple(os.strerror(n) for n in _FULL_ERRNOS)
# `<file>; No space left on device` inside a TF or events-writer message.
# TF puts the path at the start of a line of its message.
_PATH_BEFORE = re.compile(
  r'^(?P<path>.+?); (?P<why>' + '|'.join(map(re.escape, _FULL_TEXTS)) + ')',
  re.MULTILINE,
)
# The temp names TF writes before renaming into place, and what they become:
# BundleWriter's `<file>.tempstate<digits>`, gfile's atomic
# `<file>.tmp<32 hex>`, a sharded save's `<prefix>_temp/part-...`.
_TEMP_SUFFIX = re.compile(r'\.tempstate\d+$|\.tmp[0-9a-f]{32}$')
_SHARD_DIR = re.compile(r'_temp/part-\d+-of-\d+')
# The files of one checkpoint, by suffix after `<basename>-<step>`.
_CKPT_FILE = r'(?:\.index|\.meta|\.data-\d{5}-of-\d{5})'
_DATA_SHARDS = re.compile(r'\.data-(\d{5})-of-(\d{5})$')
# The event writer's thread; its disk-full error reaches the caller anyway.
_EVENT_THREAD = 'EventLoggerThread'


def _chain(error):
  """`error` and the exceptions it was raised from or during, in order."""
  seen = []
  while error is not None and error not in seen:
    seen.append(error)
    error = error.__cause__ or error.__context__
  return seen


def _message(error):
  if isinstance(error, tf.errors.OpError):
    return error.message or ''
  return str(error)


def _final_name(path):
  """The file a TF temp file was to become."""
  return _SHARD_DIR.sub('', _TEMP_SUFFIX.sub('', path))


def full_disk_cause(error):
  """Whether `error` (or what it was raised from) means a full disk.

  Args:
    error: any exception.

  Returns:
    (reason, path): reason the strerror text ('No space left on device' or
    'Disk quota exceeded'); path the file being written (temp names mapped
    to the final file) or None if no exception in the chain names one.
    None if the error is not about a full disk.
  """
  reason = None
  path = None
  wrapper_path = None
  for link in _chain(error):
    if isinstance(link, OSError) and link.errno in _FULL_ERRNOS:
      reason = reason or os.strerror(link.errno)
      path = path or link.filename
    elif isinstance(link, (tf.errors.OpError, RuntimeError)):
      match = _PATH_BEFORE.search(_message(link))
      if match:
        reason = reason or match['why']
        path = path or _final_name(match['path'])
    # A graphnet error wrapping the failed write (e.g. the DataError of a
    # data copy) knows the destination when the OSError of write() does not.
    wrapper_path = wrapper_path or getattr(link, 'path', None)
  if reason is None:
    return None
  path = path or wrapper_path
  return reason, path


def _state_names(log_dir):
  """The checkpoint prefixes the state file lists, newest last, or None.

  None when the state file exists but cannot be read (then nothing may be
  judged unlisted); [] when there is none.
  """
  if not os.path.exists(os.path.join(log_dir, _STATE_FILE)):
    return []
  try:
    state = tf.train.get_checkpoint_state(log_dir)
  except (tf.errors.OpError, ValueError):
    return None
  if state is None:
    return None
  names = list(state.all_model_checkpoint_paths)
  if state.model_checkpoint_path and state.model_checkpoint_path not in names:
    names.append(state.model_checkpoint_path)
  return [p if os.path.isabs(p) else os.path.join(log_dir, p) for p in names]


def _is_nonempty_file(path):
  try:
    info = os.stat(path)
  except OSError:
    return False
  return stat.S_ISREG(info.st_mode) and info.st_size > 0


def _is_complete(prefix):
  """True if `prefix`'s `.index`, every data shard and `.meta` exist."""
  if not all(_is_nonempty_file(prefix + s) for s in ('.index', '.meta')):
    return False
  name = os.path.basename(prefix)
  try:
    files = os.listdir(os.path.dirname(prefix) or '.')
  except OSError:
    return False
  shards = set()
  count = None
  for f in files:
    match = f.startswith(name) and _DATA_SHARDS.fullmatch(f[len(name) :])
    if match:
      shards.add(int(match[1]))
      count = int(match[2])
  return count is not None and shards == set(range(count))


def last_good_checkpoint(log_dir):
  """The newest checkpoint of `log_dir` that a restart can rely on.

  That is the newest one the `checkpoint` state file lists whose `.index`,
  data shards and `.meta` all exist (TF writes each of them to a temp name
  and renames it, so one that exists is whole). After a `.meta` write
  failed, the state file already lists the checkpoint without it; this
  then names the one before.

  Not `checkpoints.latest_complete_checkpoint` (for readers): this runs
  while another error is reported, so it never raises, passes over a
  listed checkpoint with missing or empty files instead of calling it
  damaged, and does not count the failed save's leftover
  `.data-*.tempstate<digits>` files as data shards.

  Args:
    log_dir: the directory the trainer saves in.

  Returns:
    (prefix, step): prefix a str; step the int of its `-<step>` suffix or
    None. (None, None) when there is none.
  """
  for prefix in reversed(_state_names(log_dir) or []):
    if _is_complete(prefix):
      return prefix, checkpoints.step_from_name(prefix)
  return None, None


def disk_full_error(error, log_dir):
  """The one-line `DiskFullError` for `error`, or None if it is another.

  Args:
    error: the exception training stopped with.
    log_dir: the trainer's log_dir (to name its last good checkpoint).

  Returns:
    an `errors.DiskFullError` (message, `.path`, `.last_checkpoint`), or
    None when `error` is not about a full disk.
  """
  cause = full_disk_cause(error)
  if cause is None:
    return None
  reason, path = cause
  prefix, step = last_good_checkpoint(log_dir)
  where = f' writing {path}' if path else ''
  if prefix is None:
    last = f'{log_dir} holds no complete checkpoint yet'
    then = 'to start'
  else:
    at = f' (step {step})' if step is not None else ''
    last = f'the last good checkpoint is {prefix}{at}'
    then = 'to resume'
  return errors.DiskFullError(
    f'{reason}{where}; {last}; free space and run the same command again '
    f'{then}.',
    path=path,
    last_checkpoint=prefix,
  )


def _temp_patterns(basename):
  """Names of the temp files a failed save leaves, as one regex."""
  ckpt = re.escape(basename) + r'-\d+'
  return re.compile(
    # BundleWriter's temp data and index of a plain save.
    rf'{ckpt}{_CKPT_FILE}\.tempstate\d+'
    # gfile's atomic writes: .meta, the state file, graph.pbtxt.
    rf'|(?:{ckpt}\.meta|{_STATE_FILE}|graph\.pbtxt)\.tmp[0-9a-f]{{32}}'
    # graphnet's own state rewrites (checkpoints.py).
    rf'|{_STATE_FILE}\.tmp'
  )


def _is_shard_dir(path):
  """True for a sharded save's `<prefix>_temp` dir of `part-*` files only."""
  part = re.compile(rf'part-\d{{5}}-of-\d{{5}}{_CKPT_FILE}(\.tempstate\d+)?')
  try:
    if not stat.S_ISDIR(os.lstat(path).st_mode):
      return False
    return all(part.fullmatch(f) for f in os.listdir(path))
  except OSError:
    return False


def _remove(path, removed):
  try:
    if stat.S_ISDIR(os.lstat(path).st_mode):
      shutil.rmtree(path)
    else:
      os.remove(path)
  except OSError:
    return  # Gone already, or not ours to remove.
  removed.append(path)


def remove_partial_save(log_dir, started_at, basename=checkpoints.BASENAME):
  """Removes what failed checkpoint saves left in `log_dir`.

  Removed: TF's temp files of a save (`<basename>-N.*.tempstate*`,
  `<basename>-N.meta.tmp<hex>`, `checkpoint.tmp<hex>`,
  `graph.pbtxt.tmp<hex>`, graphnet's `checkpoint.*.tmp`), a sharded save's
  `<basename>-N_temp/` of `part-*` files, and the `.index`/`.data-*`/
  `.meta` of checkpoints `<basename>-N` that the `checkpoint` state file
  does not list, when they were modified at or after `started_at`.
  Never removed: anything the state file lists, other names, links, files
  of checkpoints older than this run, and everything when the state file
  cannot be read. Call it while holding the log_dir's `run_lock` (another
  trainer's save in progress looks the same).

  Args:
    log_dir: the trainer's log_dir.
    started_at: `time.time()` when this run started.
    basename: the prefix checkpoints are saved under.

  Returns:
    the paths removed (list of str).
  """
  listed = _state_names(log_dir)
  if listed is None:
    return []
  listed = {os.path.basename(p) for p in listed}
  temp = _temp_patterns(basename)
  ckpt = re.compile(rf'(?P<prefix>{re.escape(basename)}-\d+){_CKPT_FILE}')
  shard_dir = re.compile(rf'{re.escape(basename)}-\d+_temp')
  removed = []
  try:
    names = sorted(os.listdir(log_dir))
  except OSError:
    return []
  for name in names:
    path = os.path.join(log_dir, name)
    if temp.fullmatch(name) or (
      shard_dir.fullmatch(name) and _is_shard_dir(path)
    ):
      _remove(path, removed)
      continue
    match = ckpt.fullmatch(name)
    if not match or match['prefix'] in listed:
      continue
    try:
      info = os.lstat(path)
    except OSError:
      continue
    if stat.S_ISREG(info.st_mode) and info.st_mtime >= started_at:
      _remove(path, removed)
  return removed


@contextlib.contextmanager
def quiet_writer_threads():
  """Keeps the events writer's thread from printing a disk-full traceback.

  `tf.summary.FileWriter`'s thread dies on the error and Python prints its
  traceback, although the same error is raised again in the caller, which
  reports it. Other threads' errors, and other errors, print as before.
  """
  previous = threading.excepthook

  def hook(args):
    thread = args.thread.name if args.thread else ''
    if thread == _EVENT_THREAD and full_disk_cause(args.exc_value):
      return
    previous(args)

  threading.excepthook = hook
  try:
    yield
  finally:
    threading.excepthook = previous


@contextlib.contextmanager
def training_run(log_dir, made, *, lock, printer, names=options.as_argument):
  """The block a training run writes `log_dir` in.

  With `lock` (one process, or a cluster's chief), holds log_dir's
  `run_lock.LogDirLock`; if it cannot be taken, the directories `made`
  (`log_dirs.prepare_log_dir`'s) are removed again. A full disk within
  the block (or while locking) raises one `DiskFullError`, after what
  the failed save left is removed; the writer threads' tracebacks of it
  are kept quiet.

  Args:
    log_dir: the directory trained in.
    made: the directories `prepare_log_dir` created for it.
    lock: take log_dir's lock.
    printer: `LogDirLock`'s (a stale lock taken over is said there).
    names: how messages name the `log_dir` field.

  Raises:
    LogDirLockedError: another live trainer holds `log_dir`.
    DiskFullError: a write failed for lack of space.
  """
  started_at = time.time()
  with contextlib.ExitStack() as held:
    if lock:
      try:
        held.enter_context(run_lock.LogDirLock(log_dir, printer, names))
      except errors.GraphnetError as e:
        log_dirs.remove_empty(made)
        raise disk_full_error(e, log_dir) or e from None
    held.enter_context(quiet_writer_threads())
    try:
      yield
    except (tf.errors.OpError, OSError, RuntimeError) as e:
      full = disk_full_error(e, log_dir)
      if full is None:
        raise
      remove_partial_save(log_dir, started_at)
      raise full from None
