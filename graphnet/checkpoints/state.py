"""The `checkpoint` state file: which checkpoints a directory holds.

`latest_checkpoint()` finds the newest checkpoint of a log_dir (an error
when the state file names one whose files are gone); `localize_state()`
makes a copied log_dir's `checkpoint` file name its own files, and
`discard_from()` removes checkpoints a diverged run saved. Whether a
checkpoint's contents fit the graph is `contents`'.

Readers beside a trainer use `latest_complete_checkpoint()` and
`read_with_retry()`: the trainer's `keep_checkpoint_max` may delete a
checkpoint between look-up and read. The trainer's own `saver.Saver` writes
the state file through `write_state()`; `log_dirs` prepares and cleans the
directory itself.

Example:
    prefix = latest_checkpoint(log_dir)
    if prefix and files_present(prefix):
      print('resuming from step', step_from_name(prefix))
"""

import glob
import os
import re

import tensorflow.compat.v1 as tf
from google.protobuf import text_format
from tensorflow.python.training import checkpoint_state_pb2

from graphnet import errors
from graphnet.checkpoints import file_checks

__all__ = [
  'BASENAME',
  'latest_checkpoint',
  'latest_complete_checkpoint',
  'read_with_retry',
  'complete',
  'step_from_name',
  'files_present',
  'state_prefix',
  'localize_state',
  'discard_from',
  'write_state',
]

# The checkpoint name TF's CheckpointSaverHook saves under (its default).
BASENAME = 'model.ckpt'


def latest_checkpoint(checkpoint_dir):
  """The newest checkpoint prefix in `checkpoint_dir`, or None.

  Raises:
    CheckpointError: if the `checkpoint` file names a checkpoint whose
      files are missing.
  """
  if not os.path.isdir(checkpoint_dir):
    return None
  try:
    prefix = tf.train.latest_checkpoint(checkpoint_dir)
  except (tf.errors.OpError, ValueError) as e:
    raise _unreadable_state(checkpoint_dir, e) from e
  if prefix is not None:
    prefix = _local(checkpoint_dir, prefix)
  if prefix is None and os.path.exists(
    os.path.join(checkpoint_dir, 'checkpoint')
  ):
    raise errors.CheckpointError(
      f"The 'checkpoint' file in {checkpoint_dir} names a checkpoint whose "
      'files (.index, .data-*) are missing. Restore them, delete the '
      "'checkpoint' file to start anew, or use another directory.",
      path=checkpoint_dir,
    )
  return prefix


def complete(prefix, require_meta=True):
  """Whether `.index`, every `.data` shard and (if asked) `.meta` exist."""
  if require_meta and not os.path.isfile(prefix + '.meta'):
    return False
  return files_present(prefix)


def latest_complete_checkpoint(checkpoint_dir, require_meta=True):
  """The newest listed checkpoint of `checkpoint_dir` that can be read.

  For readers beside a running trainer. TF's saver renames the `.index`
  and data files into place, then names the checkpoint in the state file,
  and only then writes the `.meta` (`Saver` here writes it first): a
  listed checkpoint whose `.meta` alone is missing is still being saved,
  and the next newest is taken. A listed checkpoint whose `.index` or data
  is missing is damaged, or was deleted since: that is an error, never
  silently served from an older checkpoint.

  Args:
    checkpoint_dir: a directory with a `checkpoint` state file.
    require_meta: also require the `.meta` file (readers that import the
      graph need it; the evaluator rebuilds the graph and does not).

  Returns:
    the checkpoint prefix (str), or None when there is no state file.

  The state file is read only if it is a regular file (never a FIFO that
  would block), and every checkpoint it lists must lie in
  `checkpoint_dir`: a reader serves exactly the directory it was given.

  Raises:
    CheckpointError: the state file cannot be read; it lists a checkpoint
      outside `checkpoint_dir`; the newest checkpoint it lists lacks its
      `.index` or data; or none has its `.meta`.
  """
  if not os.path.isdir(checkpoint_dir):
    return None
  state = _read_state(checkpoint_dir)
  if state is None:
    return None
  latest = state.model_checkpoint_path
  newest_first = [latest]
  newest_first += [
    p for p in reversed(state.all_model_checkpoint_paths) if p != latest
  ]
  for listed in newest_first:
    prefix = _confined(checkpoint_dir, _local(checkpoint_dir, listed))
    if not files_present(prefix):
      raise errors.CheckpointError(
        f"The 'checkpoint' file in {checkpoint_dir} names checkpoint "
        f'{prefix}, whose files (.index, .data-*) are missing. Restore '
        "them, delete the 'checkpoint' file to start anew, or use another "
        'directory.',
        path=checkpoint_dir,
      )
    if complete(prefix, require_meta):
      return prefix
  raise errors.CheckpointError(
    f"The 'checkpoint' file in {checkpoint_dir} lists {len(newest_first)} "
    f'checkpoint(s), newest {latest}, and none has its .meta file (the '
    'graph). Wait for the save to finish, or use a checkpoint written '
    'with its .meta.',
    path=checkpoint_dir,
  )


def read_with_retry(resolve, read, require_meta=True):
  """`read(resolve())`, once more if the checkpoint vanished meanwhile.

  A trainer's `keep_checkpoint_max` may delete the checkpoint `resolve`
  named before `read` is done with it. Then the state is looked up again
  and the read retried once; an error of a checkpoint whose files are all
  there is raised at once (damage, another model).

  Args:
    resolve: function() -> checkpoint prefix (str); raises CheckpointError.
    read: function(prefix) -> result; raises CheckpointError.
    require_meta: whether `read` needs the `.meta` file.

  Returns:
    what `read` returned.

  Raises:
    CheckpointError: from `resolve` or `read`, or the checkpoint was
      deleted during both attempts.
  """
  prefix = resolve()
  try:
    return read(prefix)
  except errors.CheckpointError:
    if complete(prefix, require_meta):
      raise
  again = resolve()
  try:
    return read(again)
  except errors.CheckpointError as e:
    index = again + '.index'
    # A FIFO or directory named like the index was not deleted: say what
    # it is (the reader's error) rather than that it vanished.
    odd = os.path.lexists(index) and not os.path.isfile(index)
    if odd or complete(again, require_meta):
      raise
    raise errors.CheckpointError(
      f'Checkpoints {prefix} and {again} were deleted while being read '
      "(the trainer's keep_checkpoint_max removes old checkpoints). Try "
      'again, or read from a directory no trainer is pruning.',
      path=again,
    ) from e


# TF's state files are a few hundred bytes; a long history a few KB.
_MAX_STATE_BYTES = 1 << 20


def _read_state(checkpoint_dir):
  """`checkpoint_dir`'s CheckpointState (paths joined to it), or None.

  Read as TF's `get_checkpoint_state` does, but only from a regular file
  of at most _MAX_STATE_BYTES (`file_checks`).

  Raises:
    CheckpointError: the `checkpoint` file cannot be read.
  """
  path = os.path.join(checkpoint_dir, 'checkpoint')
  if not os.path.lexists(path):
    return None
  data = file_checks.read_regular(
    path, checkpoint_dir, 'checkpoint state file', _MAX_STATE_BYTES
  )
  state = checkpoint_state_pb2.CheckpointState()
  try:
    text_format.Parse(data.decode('utf-8'), state)
  except (text_format.ParseError, UnicodeDecodeError) as e:
    raise _unreadable_state(checkpoint_dir, e) from e
  if not state.model_checkpoint_path:
    raise _unreadable_state(checkpoint_dir, 'it names no checkpoint')
  paths = [state.model_checkpoint_path, *state.all_model_checkpoint_paths]
  joined = [
    p if os.path.isabs(p) else os.path.join(checkpoint_dir, p) for p in paths
  ]
  state.model_checkpoint_path = joined[0]
  del state.all_model_checkpoint_paths[:]
  state.all_model_checkpoint_paths.extend(joined[1:])
  return state


def _confined(checkpoint_dir, prefix):
  """`prefix` if it lies in `checkpoint_dir`, links resolved.

  Raises:
    CheckpointError: it lies elsewhere.
  """
  if file_checks.inside(prefix, checkpoint_dir):
    return prefix
  shown = errors.printable(prefix)
  raise errors.CheckpointError(
    f"The 'checkpoint' file in {errors.printable(checkpoint_dir)} names "
    f'{shown}, outside that directory; graphnet reads only checkpoints '
    'inside the directory it is given. If you mean that checkpoint, name '
    f'its prefix ({shown}) instead of the directory.',
    path=checkpoint_dir,
  )


def _unreadable_state(checkpoint_dir, e):
  """The CheckpointError for a `checkpoint` file TF failed to read."""
  return errors.CheckpointError(
    f"The 'checkpoint' file in {errors.printable(checkpoint_dir)} cannot be "
    f'read ({errors.printable(str(e))}). '
    'Delete it to start anew, or point to another directory.',
    path=checkpoint_dir,
  )


def _local(checkpoint_dir, prefix):
  """`prefix`, or its namesake in `checkpoint_dir` if it points elsewhere.

  TF's savers write absolute paths into the `checkpoint` file, so a copied
  or moved log_dir still names the original's files.
  """
  local = os.path.join(checkpoint_dir, os.path.basename(prefix))
  if os.path.abspath(os.path.dirname(prefix)) == os.path.abspath(
    checkpoint_dir
  ):
    return prefix
  if os.path.exists(local + '.index'):
    return local
  return prefix


def localize_state(checkpoint_dir):
  """Rewrites a `checkpoint` file naming another directory's checkpoints.

  A log_dir copied with its absolute-path `checkpoint` file would make
  training restore from the original directory and, worse, let
  `keep_checkpoint_max` delete the original's checkpoints. When the
  checkpoints named there also exist in `checkpoint_dir`, the file is
  rewritten to name those, relative to the directory.

  Args:
    checkpoint_dir: the log_dir about to be trained in.

  Returns:
    True if the file was rewritten.
  """
  try:
    state = tf.train.get_checkpoint_state(checkpoint_dir)
  except (tf.errors.OpError, ValueError):
    return False
  if state is None or not state.model_checkpoint_path:
    return False
  paths = list(state.all_model_checkpoint_paths) or [
    state.model_checkpoint_path
  ]
  here = os.path.abspath(checkpoint_dir)
  if all(os.path.dirname(os.path.abspath(p)) == here for p in paths):
    return False
  local = [
    os.path.basename(p)
    for p in paths
    if os.path.exists(
      os.path.join(checkpoint_dir, os.path.basename(p)) + '.index'
    )
  ]
  latest = os.path.basename(state.model_checkpoint_path)
  if latest not in local:
    return False
  write_state(checkpoint_dir, latest, local)
  return True


def write_state(checkpoint_dir, latest, names, state_name='checkpoint'):
  """Replaces `checkpoint_dir`'s state file: `latest` and `names`.

  The one writer of graphnet's state files. Names are relative to the
  directory. Written beside and renamed over, as TF does: a crash never
  leaves half a state file (at most a `checkpoint.tmp`, removed by
  `remove_save_leftovers`).
  """
  lines = [f'model_checkpoint_path: "{latest}"']
  lines += [f'all_model_checkpoint_paths: "{n}"' for n in names]
  path = os.path.join(checkpoint_dir, state_name)
  with open(path + '.tmp', 'w') as f:
    f.write('\n'.join(lines) + '\n')
  os.replace(path + '.tmp', path)


def step_from_name(prefix):
  """The step a checkpoint's name ends in (`model.ckpt-2000`), or None."""
  match = re.search(r'-(\d+)$', prefix)
  return int(match.group(1)) if match else None


_SHARD = re.compile(r'\.data-\d+-of-(\d+)$')


def files_present(prefix):
  """Whether the `.index` and every `.data` shard of `prefix` exist."""
  if not os.path.isfile(prefix + '.index'):
    return False
  # A killed save leaves `<prefix>.data-00000-of-00001.tempstate<digits>`
  # beside the shards: the glob finds it, the pattern does not.
  found = glob.glob(glob.escape(prefix) + '.data-*-of-*')
  shards = [m for m in map(_SHARD.search, found) if m]
  return bool(shards) and len(shards) == int(shards[0].group(1))


def state_prefix(checkpoint_dir):
  """The newest prefix `checkpoint_dir`'s state file names, or None.

  Unlike `latest_checkpoint`, the prefix is returned even when its files
  are missing (an evaluator reports and retries it). The state file is
  read as by `latest_complete_checkpoint`, confined to the directory.

  Raises:
    CheckpointError: the `checkpoint` file cannot be read, or names a
      checkpoint outside `checkpoint_dir`.
  """
  state = _read_state(checkpoint_dir)
  if state is None:
    return None
  return _confined(checkpoint_dir, state.model_checkpoint_path)


def discard_from(checkpoint_dir, step):
  """Deletes the checkpoints of `checkpoint_dir` at global step >= `step`.

  For a diverged run: the checkpoint of step s was saved before the run
  from s showed that its weights give a NaN loss, so it must not be the
  one to resume from or to serve.

  Args:
    checkpoint_dir: a log_dir with a `checkpoint` file.
    step: the first bad global step.

  Returns:
    the prefixes deleted (list of str); the `checkpoint` file then names
    the newest one left.
  """
  try:
    state = tf.train.get_checkpoint_state(checkpoint_dir)
  except (tf.errors.OpError, ValueError):
    return []
  if state is None:
    return []
  keep, drop = [], []
  for path in state.all_model_checkpoint_paths:
    name = os.path.basename(path)
    named_step = step_from_name(name)
    bad = named_step is not None and named_step >= step
    (drop if bad else keep).append(name)
  if not drop:
    return []
  if keep:
    write_state(checkpoint_dir, keep[-1], keep)
  else:
    os.remove(os.path.join(checkpoint_dir, 'checkpoint'))
  deleted = []
  for name in drop:
    prefix = os.path.join(checkpoint_dir, name)
    for path in glob.glob(glob.escape(prefix) + '.*'):
      os.remove(path)
    deleted.append(prefix)
  return deleted
