"""Evaluates the trainer's checkpoints as they appear (TF1's `mnist_eval`).

The evaluator runs beside the trainer: every `interval_secs` it asks the
trainer's `checkpoint` state file for the newest checkpoint, and evaluates
each new one once, in a graph built fresh from `mnist.inference`. The model
sizes are read from the checkpoint's variable shapes, and when the
checkpoint holds moving averages (`.../ExponentialMovingAverage`) they are
restored into the plain variables, so the evaluator scores the weights the
trainer evaluates with.

The trainer's `Saver` writes the checkpoint files first and replaces the
`checkpoint` state file last, so a prefix named there is complete; one that
`keep_checkpoint_max` has deleted since, or that does not read cleanly, is
logged and skipped, to be retried at the next poll.

Example:
    data = input_data.read_data_sets('/tmp/data')
    evaluation_loop('/tmp/logs', data.validation, interval_secs=10,
                    subset='validation', eval_dir='/tmp/logs/eval_validation')
    # After 2000 training step(s), validation accuracy = 0.9114
"""

import dataclasses
import glob
import os
import re
import time

import tensorflow.compat.v1 as tf
from absl import logging

from graphnet import deep_mnist
from graphnet import errors
from graphnet import evaluation
from graphnet import mnist

__all__ = [
  'EMA_SUFFIX',
  'ModelShape',
  'EvalRecord',
  'read_model_shape',
  'evaluate_checkpoint',
  'evaluation_loop',
]

# Name the trainer's `ExponentialMovingAverage` gives each shadow variable:
# `hidden1/weights/ExponentialMovingAverage`.
EMA_SUFFIX = 'ExponentialMovingAverage'

_LAYERS = ('hidden1', 'hidden2', 'softmax_linear')
_CONV_LAYERS = ('conv1', 'conv2', 'fc1', 'fc2')
# Trainable variables end so; the moving averages cover exactly these.
_TRAINABLE_NAMES = ('/weights', '/biases', '/beta', '/gamma')


def _averaged(names):
  trainable = [
    n
    for n in names
    if n.endswith(_TRAINABLE_NAMES) and not n.endswith('/' + EMA_SUFFIX)
  ]
  return bool(trainable) and all(
    f'{n}/{EMA_SUFFIX}' in names for n in trainable
  )


def _conv_shape(prefix, stored):
  """The `ModelShape` of a `--model conv` checkpoint."""
  names = [n for n in stored if n.split('/')[0] in _CONV_LAYERS]
  expected = {
    'conv1/weights': [5, 5, 1, deep_mnist.CONV1_FILTERS],
    'fc2/weights': [deep_mnist.FC1_UNITS, mnist.NUM_CLASSES],
  }
  for name, shape in expected.items():
    if list(stored.get(name, [])) != shape:
      raise _mismatch(
        prefix, stored, f'{name} is {stored.get(name)}, expected {shape}'
      )
  batch_norm = 'conv1/batch_norm/gamma' in stored
  return ModelShape(0, 0, _averaged(names), 'conv', batch_norm)


@dataclasses.dataclass(frozen=True)
class ModelShape:
  """The network a checkpoint holds, as read from its variable shapes."""

  # Units of the first hidden layer; 0 = softmax regression.
  hidden1: int
  # Units of the second hidden layer; 0 = one hidden layer.
  hidden2: int
  # Whether the checkpoint holds moving averages of every model variable.
  moving_averages: bool
  # 'mlp' (hidden1/hidden2/softmax_linear) or 'conv' (deep_mnist).
  model: str = 'mlp'
  # For 'conv': whether its layers use batch normalisation.
  batch_norm: bool = False


@dataclasses.dataclass(frozen=True)
class EvalRecord:
  """One evaluated checkpoint."""

  # The checkpoint prefix, e.g. `logs/model.ckpt-2000`.
  prefix: str
  # Its global step.
  step: int
  # Fraction of the data set predicted correctly.
  accuracy: float


def _mismatch(prefix, found, detail):
  names = ', '.join(f'{n} {s}' for n, s in sorted(found.items())[:8]) or (
    'no variables'
  )
  return errors.CheckpointMismatchError(
    f'Checkpoint {prefix} is not a graphnet model (MLP or conv): {detail}. '
    f'Found: {names}. '
    'Point --checkpoint_dir at the log_dir of graphnet.fully_connected_feed.',
    path=prefix,
  )


def read_model_shape(prefix):
  """Reads the layer sizes of the graphnet MLP stored at `prefix`.

  Args:
    prefix: checkpoint prefix, e.g. `logs/model.ckpt-2000`.

  Returns:
    a `ModelShape`.

  Raises:
    CheckpointError: the checkpoint cannot be read.
    CheckpointMismatchError: the checkpoint holds another model.
  """
  try:
    stored = dict(tf.train.list_variables(prefix))
  except (tf.errors.OpError, ValueError) as e:
    raise errors.CheckpointError(
      f'Checkpoint {prefix} cannot be read: {e}', path=prefix
    ) from e
  if 'conv1/weights' in stored:
    return _conv_shape(prefix, stored)
  model = {n: list(s) for n, s in stored.items() if n.split('/')[0] in _LAYERS}
  weights = {
    layer: model.get(f'{layer}/weights')
    for layer in _LAYERS
    if f'{layer}/weights' in model
  }
  if 'softmax_linear' not in weights:
    raise _mismatch(prefix, stored, 'softmax_linear/weights is missing')
  if 'hidden2' in weights and 'hidden1' not in weights:
    raise _mismatch(prefix, stored, 'hidden2 without hidden1')
  # Each layer's fan-in must be the previous layer's width.
  width = mnist.IMAGE_PIXELS
  units = {}
  for layer in _LAYERS:
    shape = weights.get(layer)
    if shape is None:
      units[layer] = 0
      continue
    if len(shape) != 2 or shape[0] != width:
      raise _mismatch(
        prefix,
        stored,
        f'{layer}/weights is {shape}, expected [{width}, units]',
      )
    if model.get(f'{layer}/biases') != [shape[1]]:
      raise _mismatch(
        prefix,
        stored,
        f'{layer}/biases is {model.get(f"{layer}/biases")}, '
        f'expected [{shape[1]}]',
      )
    units[layer] = width = shape[1]
  if units['softmax_linear'] != mnist.NUM_CLASSES:
    raise _mismatch(
      prefix,
      stored,
      f'softmax_linear has {units["softmax_linear"]} outputs, expected '
      f'{mnist.NUM_CLASSES}',
    )
  return ModelShape(units['hidden1'], units['hidden2'], _averaged(list(model)))


def _checkpoint_files_present(prefix):
  """Whether the .index and every .data shard of `prefix` exist."""
  if not os.path.isfile(prefix + '.index'):
    return False
  shards = glob.glob(glob.escape(prefix) + '.data-*-of-*')
  match = shards and re.search(r'-of-(\d+)$', shards[0])
  return bool(match) and len(shards) == int(match.group(1))


def _read_step(prefix):
  """The checkpoint's global step (or the `-<step>` suffix of its name)."""
  try:
    return int(tf.train.load_variable(prefix, 'global_step'))
  except (tf.errors.OpError, ValueError, IndexError) as e:
    # The reader reports a .data file cut short as IndexError.
    if isinstance(e, IndexError):
      raise errors.CheckpointError(
        f'Checkpoint {prefix} cannot be read: its data file is truncated '
        f'({e}).',
        path=prefix,
      ) from e
    match = re.search(r'-(\d+)$', prefix)
    if match is None:
      raise errors.CheckpointMismatchError(
        f'Checkpoint {prefix} holds no global_step and its name does not '
        "end in '-<step>'; expected a checkpoint of "
        'graphnet.fully_connected_feed.',
        path=prefix,
      ) from None
    return int(match.group(1))


def evaluate_checkpoint(prefix, data_set, batch_size=None):
  """Restores checkpoint `prefix` into a fresh graph and scores `data_set`.

  Builds `mnist.placeholder_inputs` and `mnist.inference` with the sizes
  read from the checkpoint in a new `tf.Graph` (variables `hidden1/`,
  `hidden2/`, `softmax_linear/`), restores them - from their moving
  averages when the checkpoint has them - and counts correct predictions
  with an `evaluation.EvalTower`.

  Args:
    prefix: checkpoint prefix, e.g. `logs/model.ckpt-2000`.
    data_set: an `input_data.DataSet` (images float32 `[N, 784]`).
    batch_size: examples per `session.run`; default EvalTower's (10000).

  Returns:
    (step, accuracy): int global step of the checkpoint, float fraction
    correct (NaN for an empty data set).

  Raises:
    CheckpointError: the checkpoint's files are missing or unreadable.
    CheckpointMismatchError: the checkpoint holds another model.
  """
  if not _checkpoint_files_present(prefix):
    raise errors.CheckpointError(
      f'Checkpoint {prefix} is incomplete: expected {prefix}.index and all '
      f'{prefix}.data-*-of-* shards. It may have been deleted by the '
      "trainer's keep_checkpoint_max.",
      path=prefix,
    )
  shape = read_model_shape(prefix)
  step = _read_step(prefix)
  graph = tf.Graph()
  with graph.as_default():
    images, labels = mnist.placeholder_inputs()
    if shape.model == 'conv':
      # No dropout, and batch norm on its moving statistics.
      logits = deep_mnist.inference_conv(
        images, 1.0, batch_norm=shape.batch_norm, is_training=False
      )
    else:
      logits = mnist.inference(images, shape.hidden1, shape.hidden2)
    tower = evaluation.EvalTower(
      images, labels, mnist.evaluation(logits, labels), batch_size
    )
    if shape.moving_averages:
      # Only the shadow names matter for restoring; the decay is unused.
      var_list = tf.train.ExponentialMovingAverage(0.0).variables_to_restore()
    else:
      var_list = tf.global_variables()
    saver = tf.train.Saver(var_list)
    with tf.Session(graph=graph) as sess:
      try:
        saver.restore(sess, prefix)
      except (tf.errors.OpError, ValueError) as e:
        raise errors.CheckpointError(
          f'Checkpoint {prefix} cannot be restored: {e}', path=prefix
        ) from e
      result = tower.run(sess, data_set)
  return step, result.precision


def _latest(checkpoint_dir):
  """The newest prefix listed in `checkpoint_dir`'s state file, or None."""
  try:
    state = tf.train.get_checkpoint_state(checkpoint_dir)
  except (tf.errors.OpError, ValueError) as e:
    logging.warning(
      'Cannot read the checkpoint state in %s: %s', checkpoint_dir, e
    )
    return None
  if state is None or not state.model_checkpoint_path:
    return None
  prefix = state.model_checkpoint_path
  if not os.path.isabs(prefix):
    prefix = os.path.join(checkpoint_dir, prefix)
  return prefix


def _make_writer(eval_dir):
  # FileWriter refuses eager mode; it only needs a graph while it is made.
  with tf.Graph().as_default():
    return tf.summary.FileWriter(eval_dir)


def evaluation_loop(
  checkpoint_dir,
  data_set,
  subset='validation',
  interval_secs=10.0,
  run_once=False,
  timeout_secs=0.0,
  eval_dir=None,
  printer=print,
  sleep=time.sleep,
  clock=time.monotonic,
):
  """Evaluates each new checkpoint of `checkpoint_dir` once.

  Polls every `interval_secs` (the time spent evaluating counts towards
  it). Prints `After <step> training step(s), <subset> accuracy = <acc>`
  per checkpoint, or `No checkpoint file found` while there is none, and
  writes the scalar summary `accuracy/<subset>` at the checkpoint's step to
  `eval_dir`. A checkpoint that fails to read is logged and retried at the
  next poll (with `run_once`, its `CheckpointError` is raised).

  Args:
    checkpoint_dir: the trainer's log_dir.
    data_set: the `input_data.DataSet` to score.
    subset: its name, used in the line and the summary tag.
    interval_secs: seconds between polls, > 0.
    run_once: evaluate the newest checkpoint (if any) and return.
    timeout_secs: return after this long without a new checkpoint; 0 =
      never.
    eval_dir: directory of the events file, created when the first
      summary is written; None = no summaries.
    printer: function taking one output line.
    sleep: function(seconds), injectable for tests.
    clock: function() -> seconds, monotonic, injectable for tests.

  Returns:
    list of `EvalRecord`, one per evaluated checkpoint, in order.

  Raises:
    ConfigError: `interval_secs` <= 0 or `timeout_secs` < 0.
    CheckpointMismatchError: the checkpoint holds another model.
    CheckpointError: with `run_once`, the newest checkpoint cannot be read.
  """
  if interval_secs <= 0 or timeout_secs < 0:
    raise errors.ConfigError(
      'evaluation_loop: interval_secs must be > 0 and timeout_secs >= 0, '
      f'got {interval_secs} and {timeout_secs}.'
    )
  records, done, writer = [], set(), None
  last_new = clock()
  try:
    while True:
      started = clock()
      prefix = _latest(checkpoint_dir)
      if prefix is None:
        printer('No checkpoint file found')
      elif prefix not in done:
        try:
          step, accuracy = evaluate_checkpoint(prefix, data_set)
        except errors.CheckpointMismatchError:
          raise
        except errors.CheckpointError as e:
          if run_once:
            # No later poll to retry at: say why there is no result.
            raise
          logging.warning('Skipping checkpoint %s for now: %s', prefix, e)
          printer(f'Skipping checkpoint {prefix}: it cannot be read yet.')
        else:
          done.add(prefix)
          last_new = clock()
          records.append(EvalRecord(prefix, step, accuracy))
          printer(
            f'After {step} training step(s), {subset} accuracy = {accuracy:g}'
          )
          if eval_dir:
            writer = writer or _make_writer(eval_dir)
            value = tf.Summary.Value(
              tag=f'accuracy/{subset}', simple_value=accuracy
            )
            writer.add_summary(tf.Summary(value=[value]), step)
            writer.flush()
      if run_once:
        return records
      now = clock()
      if timeout_secs and now - last_new >= timeout_secs:
        printer(
          f'No new checkpoint for {timeout_secs:g} s; stopping the evaluator.'
        )
        return records
      wait = interval_secs - (now - started)
      if timeout_secs:
        wait = min(wait, last_new + timeout_secs - now)
      if wait > 0:
        sleep(wait)
  finally:
    if writer is not None:
      writer.close()
