"""Checks that a training run can start, before it writes anything.

`run_training` calls these before it touches `log_dir`: the intervals of
an in-graph loop are rounded to whole runs (and it says so), a batch
larger than the training split is refused in one line that names the file
and the fix, a log_dir already trained to `max_steps` is left alone with
one line saying so, and what a killed run's saves left behind is removed.

Example:
    data_sets = input_data.read_data_sets(config.input_data_dir)
    check_batch_fits(config, data_sets)      # raises ConfigError
    done = already_trained(config, print)    # (step, prefix) or None
"""

import dataclasses
import os

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import contents
from graphnet.checkpoints import log_dirs
from graphnet.checkpoints import state as checkpoints
from graphnet.data import mnist_files
from graphnet.data import mnist_reader as input_data
from graphnet.data import read_ahead

__all__ = [
  'read_data',
  'round_intervals',
  'check_batch_fits',
  'already_trained',
  'remove_save_leftovers',
]


def read_data(config):
  """The data of `config`: its .npz file, fake data or its IDX files."""
  try:
    if config.data_npz:
      return input_data.read_npz(
        config.data_npz,
        validation_size=config.validation_size,
        seed=_data_seed(config),
      )
    return input_data.read_data_sets(
      config.input_data_dir,
      fake_data=config.fake_data,
      validation_size=config.validation_size,
      seed=_data_seed(config),
    )
  finally:
    # What the command line read ahead and this data did not use.
    read_ahead.clear()


def _data_seed(config):
  """Batch-order seed: each worker of a cluster draws its own sequence."""
  if config.seed is None or config.cluster is None:
    return config.seed
  return config.seed + config.cluster.task_index


def check_batch_fits(config, data_sets, names=options.as_argument):
  """Refuses a training split smaller than one batch, naming the fix.

  Args:
    config: a `TrainConfig`.
    data_sets: its `Datasets`.
    names: how the message names a config field (`options.as_argument`,
      or `options.as_flag` on the command line).

  Raises:
    ConfigError: the training split (what validation_size leaves of the
      training file) holds fewer examples than batch_size.
  """
  try:
    input_data.check_batch_size(data_sets, config.batch_size)
  except errors.DataError as e:
    raise errors.ConfigError(
      _batch_message(
        config,
        data_sets.train.num_examples,
        data_sets.validation.num_examples,
        names,
      ),
      field='batch_size',
    ) from e


def _batch_message(config, left, held_out, names):
  """Why `left` training examples are too few for a batch, and the fixes."""
  batch_size, validation_size = names('batch_size'), names('validation_size')
  fixes = [f'{batch_size} {left} or less'] if left else []
  if config.fake_data:
    where = 'of the fake data'
  else:
    total = left + held_out
    path = config.data_npz or os.path.join(
      config.input_data_dir, mnist_files.TRAIN_IMAGES
    )
    where = f'left of the {total} in {path} after {validation_size} {held_out}'
    if total >= config.batch_size:
      most = total - config.batch_size
      fixes.append(f'{validation_size} {most}{" or less" if most else ""}')
    fixes.append('more training images')
  if len(fixes) > 1:
    fixes[-1] = f'or {fixes[-1]}'
  return (
    f'{batch_size} {config.batch_size} is more than the {left} training '
    f'examples {where}; use {", ".join(fixes)}.'
  )


def already_trained(config, printer, names=options.as_argument):
  """(step, prefix) if log_dir's checkpoint already reached max_steps.

  Says so in one line (naming max_steps and log_dir by `names`) instead of
  restoring, re-saving and re-training the old model. In a cluster only
  the chief, which owns log_dir, judges and says so; the other tasks learn
  it from the global step once the chief has restored the model.
  """
  if config.cluster is not None and not config.cluster.is_chief:
    return None
  prefix = checkpoints.latest_checkpoint(config.log_dir)
  step = contents.checkpoint_step(prefix) if prefix else None
  if step is None or step < config.max_steps:
    return None
  max_steps, log_dir = names('max_steps'), names('log_dir')
  printer(
    f'already trained to step {step} (>= {max_steps} {config.max_steps}): '
    f'nothing to train; use a larger {max_steps} or a new {log_dir}'
  )
  return step, prefix


def round_intervals(config, printer, names=options.as_argument):
  """`config` with its intervals rounded up to multiples of steps_per_run.

  Hooks act between runs, so with N steps per run they can only act at
  multiples of N; rounding (and saying so once) beats acting late.
  """
  n = config.steps_per_run
  intervals = ('log_every', 'eval_every', 'save_checkpoint_steps')
  rounded = {
    name: -(-getattr(config, name) // n) * n
    for name in intervals
    if getattr(config, name) % n
  }
  if not rounded:
    return config
  changes = ', '.join(
    f'{names(name)} {getattr(config, name)} -> {value}'
    for name, value in rounded.items()
  )
  printer(
    f'{names("steps_per_run")} {n}: intervals rounded to multiples: {changes}.'
  )
  return dataclasses.replace(config, **rounded)


def remove_save_leftovers(config, printer):
  """Removes the temporary files of saves a killed run left in log_dir."""
  if config.cluster is not None and not config.cluster.is_chief:
    return  # Only the chief saves, so only it knows they are abandoned.
  removed = log_dirs.remove_save_leftovers(config.log_dir)
  if removed:
    printer(
      f'Removed {len(removed)} temporary file(s) of unfinished saves from '
      f'{config.log_dir}: {", ".join(removed)}'
    )
