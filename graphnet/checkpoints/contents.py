"""What a checkpoint holds, checked against the graph before a restore.

TF reports a checkpoint of another model as a long shape-mismatch trace, in
the middle of session creation. `check_compatible()` compares a checkpoint's
variables with the graph's first and says, in one message, what differs and
what to do. `check_readable()` reads every tensor, so a file cut short by a
crash is reported before the session, not as a DataLossError inside it.
`check_resumable()` does both for the trainer's log_dir. Finding the
checkpoint (the `checkpoint` state file) is `state`'s.

Example:
    prefix = state.latest_checkpoint(log_dir)
    if prefix:
      check_compatible(prefix, tf.global_variables(), where=log_dir)
      check_readable(prefix, where=log_dir)
      step = checkpoint_step(prefix)
"""

import os

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import file_checks
from graphnet.checkpoints import state

__all__ = [
  'variable_shapes',
  'checkpoint_step',
  'check_compatible',
  'check_readable',
  'check_resumable',
  'in_directory',
]


def variable_shapes(prefix):
  """{variable name: shape (list of int)} of checkpoint `prefix`.

  Raises:
    CheckpointError: the checkpoint cannot be read.
  """
  try:
    return {
      name: list(shape) for name, shape in tf.train.list_variables(prefix)
    }
  except (tf.errors.OpError, ValueError) as e:
    raise file_checks.unreadable(prefix, e) from e


def checkpoint_step(prefix):
  """The global step stored in checkpoint `prefix`, or None.

  Raises:
    CheckpointError: the checkpoint cannot be read.
  """
  shapes = variable_shapes(prefix)
  if 'global_step' not in shapes:
    return None
  try:
    return int(tf.train.load_variable(prefix, 'global_step'))
  # The reader reports a .data file cut short as IndexError.
  except (tf.errors.OpError, ValueError, IndexError) as e:
    raise errors.CheckpointError(
      f'Checkpoint {errors.printable(prefix)} cannot be read: its data file '
      f'is damaged or truncated ({file_checks.read_error_detail(e)}).',
      path=prefix,
    ) from e


def check_compatible(
  prefix, variables, where='the checkpoint directory', fix=None
):
  """Checks that checkpoint `prefix` holds every variable of `variables`.

  Args:
    prefix: checkpoint prefix, e.g. `logs/model.ckpt-2000`.
    variables: the graph variables that will be restored.
    where: how the caller named the checkpoint's directory (or file), for
      the message, e.g. 'log_dir logs/run1'.
    fix: the message's advice; default "Use a new <where> for this model".

  Raises:
    CheckpointMismatchError: a variable is missing or has another shape.
    CheckpointError: the checkpoint cannot be read.
  """
  stored = variable_shapes(prefix)
  problems = []
  seen = set()
  for var in variables:
    name = var.op.name
    want = var.shape.as_list()
    # A partition of a partitioned variable (a cluster's ps tasks) is
    # saved as a slice of the whole variable, under the whole's name.
    whole = getattr(var, '_save_slice_info', None)
    if whole is not None:
      name, want = whole.full_name, list(whole.full_shape)
      if name in seen:
        continue
      seen.add(name)
    if name not in stored:
      problems.append(f'{name} {want} is missing')
    elif list(stored[name]) != want:
      problems.append(f'{name} is {list(stored[name])}, the model needs {want}')
  if problems:
    shown = '; '.join(problems[:5])
    more = f' (and {len(problems) - 5} more)' if len(problems) > 5 else ''
    raise errors.CheckpointMismatchError(
      f'{where} holds checkpoint {prefix} of a different model: {shown}'
      f'{more}. {fix or f"Use a new {where} for this model"} (or the '
      'settings that built the checkpoint).',
      path=prefix,
    )


def _previous_checkpoint(prefix):
  """The newest other checkpoint listed beside `prefix`, or None."""
  directory = os.path.dirname(prefix) or '.'
  try:
    state = tf.train.get_checkpoint_state(directory)
  except (tf.errors.OpError, ValueError):
    return None
  others = [p for p in (state.all_model_checkpoint_paths if state else [])]
  others = [
    p for p in others if os.path.basename(p) != os.path.basename(prefix)
  ]
  return os.path.basename(others[-1]) if others else None


def check_readable(prefix, where='the checkpoint directory'):
  """Reads every tensor of checkpoint `prefix`, so damage shows up now.

  The `.index` names each tensor's place in the `.data-*` files; a file
  cut short by a crash or a full disk is only noticed when the bytes are
  read. graphnet's models are small (a few MB), so reading all of them
  before the session is created costs well under a second.

  Args:
    prefix: checkpoint prefix, e.g. `logs/model.ckpt-2000`.
    where: how the caller named the checkpoint's directory, for the
      message, e.g. 'log_dir logs/run1'.

  Raises:
    CheckpointError: a file of the checkpoint is missing, truncated or
      corrupt; the message names the checkpoint and what to do.
  """
  try:
    reader = tf.train.load_checkpoint(prefix)
    for name in reader.get_variable_to_shape_map():
      reader.get_tensor(name)
  # The reader reports a short file as IndexError, not as an OpError.
  except (tf.errors.OpError, ValueError, IndexError, RuntimeError) as e:
    detail = file_checks.read_error_detail(e)
    name = os.path.basename(prefix)
    previous = _previous_checkpoint(prefix)
    if previous:
      fix = (
        f'To resume from {previous}, delete {name}.* and set '
        f'model_checkpoint_path: "{previous}" in the \'checkpoint\' file; '
        f'or use a new {where}.'
      )
    else:
      fix = f"Delete the directory's checkpoint files or use a new {where}."
    raise errors.CheckpointError(
      f'{where} holds a damaged checkpoint {prefix}: {detail}. It was '
      f'probably cut short by a crash or a full disk. {fix}',
      path=prefix,
    ) from e


def _unused(log_dir):
  """`<log_dir>_2` (or _3, ...): a sibling path that does not exist yet."""
  base = os.path.normpath(log_dir)
  number = 2
  while os.path.lexists(f'{base}_{number}'):
    number += 1
  return f'{base}_{number}'


def in_directory(prefix, directory):
  """Whether checkpoint `prefix` lies in `directory` itself."""
  return os.path.dirname(os.path.abspath(prefix)) == os.path.abspath(directory)


def check_resumable(log_dir, variables, names=options.as_argument):
  """Checks the latest checkpoint of `log_dir` before a session resumes it.

  Does nothing when there is none. Otherwise refuses another model's or a
  damaged checkpoint, and makes a copied log_dir's `checkpoint` file name
  its own files (see `state.localize_state`). A state file naming checkpoints of
  another directory (absolute paths, as plain TF savers write) that do not
  exist here is left as it is: the session starts from the newest of them,
  which `Saver` never lists nor deletes; its first save, as the session
  starts, replaces the state file with one listing this directory's own.

  Args:
    log_dir: the directory a training session will restore from.
    variables: the graph variables the session will restore.
    names: how messages name the `log_dir` field (`options.as_argument`,
      or `options.as_flag` on the command line).

  Returns:
    the checkpoint prefix the session will restore (str), or None; see
    `in_directory` for whether it is another directory's.

  Raises:
    CheckpointMismatchError: the checkpoint holds another model.
    CheckpointError: the checkpoint is damaged or unreadable.
  """
  prefix = state.latest_checkpoint(log_dir)
  if not prefix:
    return None
  where = f'{names("log_dir")} {log_dir}'
  fix = f'Use a new {names("log_dir")} for this model, e.g. {_unused(log_dir)}'
  check_compatible(prefix, variables, where=where, fix=fix)
  # A damaged file would otherwise surface as a raw DataLossError from
  # inside session creation, after the events file was started.
  check_readable(prefix, where=where)
  # Else the session restores from, and keep_checkpoint_max deletes in,
  # the directory this one was copied from.
  state.localize_state(log_dir)
  return prefix
