"""Scores one checkpoint on a data set, in a graph built fresh for it.

`evaluate_checkpoint` builds the evaluation tower of the network the
checkpoint holds, in a new graph built by the network's `ModelSpec`
(`models`), which also reads the network's hyperparameters back from the
checkpoint's variable shapes. When the checkpoint holds moving averages
(`.../ExponentialMovingAverage`) they are restored into the plain
variables (`variables_to_restore`), so the score is that of the weights
the trainer evaluates with.

A checkpoint of a network the registry cannot recognise (a user's model
callable trained with `graphnet.train`, or a built-in network on other
data) is scored through its saved graph instead: the checked inference
subgraph of its `.meta` with the checkpoint's weights as constants
(`freezing.frozen_graph_def`; the moving averages when the model was
trained with them), so nothing of the file runs but inference.
`continuous_eval` polls a log_dir and scores each new checkpoint so.

Example:
    data = input_data.read_data_sets('/tmp/data')
    step, accuracy = evaluate_checkpoint('/tmp/logs/model.ckpt-2000',
                                         data.validation)
"""

import dataclasses
import os

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.checkpoints import contents
from graphnet.checkpoints import file_checks
from graphnet.checkpoints import state as checkpoints
from graphnet.nn import mlp as mnist
from graphnet.nn import models
from graphnet.serving import bundle_index
from graphnet.serving import predictor
from graphnet.training import config
from graphnet.training import evaluation

__all__ = [
  'EMA_SUFFIX',
  'CheckpointModel',
  'read_checkpoint_model',
  'evaluate_checkpoint',
]


# Name the trainer's `ExponentialMovingAverage` gives each shadow variable:
# `hidden1/weights/ExponentialMovingAverage`.
EMA_SUFFIX = 'ExponentialMovingAverage'


@dataclasses.dataclass(frozen=True)
class CheckpointModel:
  """The network a checkpoint holds, as its `ModelSpec` reads it back."""

  # The network and its hyperparameters.
  network: config.ModelConfig
  # Whether the checkpoint holds moving averages of every trainable
  # variable (the weights the trainer evaluates with).
  moving_averages: bool


def _mismatch(prefix, shapes, reason=''):
  names = ', '.join(f'{n} {s}' for n, s in sorted(shapes.items())[:8])
  return errors.CheckpointMismatchError(
    f'Checkpoint {prefix} is not a graphnet model: no registered network '
    f'({", ".join(models.names())}) has its variables{reason}. Found: '
    f'{names or "no variables"}. Evaluate the log_dir of a graphnet '
    'training run (graphnet.fully_connected_feed or graphnet.train).',
    path=prefix,
  )


def _network(prefix, shapes):
  """The ModelConfig of the registered network `shapes` holds."""
  found = models.read_config(shapes)
  if found is None:
    raise _mismatch(prefix, shapes)
  name, params = found
  return config.ModelConfig(name, params=params)


def _saved_graph_precision(prefix, shapes, data_set, batch_size):
  """Precision of the checkpoint's own (frozen) graph on `data_set`.

  The graph is checked, frozen and run by a `Predictor` (in its worker
  process past `sandbox.IN_PROCESS_FLOPS`), each run within the
  Predictor's deadline.

  Raises:
    CheckpointMismatchError: the `.meta` holds no usable graphnet graph.
    PredictionTimeoutError: a run took longer than the deadline.
  """
  try:
    model = predictor.Predictor.from_checkpoint(
      prefix, batch_size=batch_size or 10000
    )
  except errors.CheckpointMismatchError:
    raise
  except (errors.CheckpointError, errors.UnsafeGraphError) as e:
    raise _mismatch(
      prefix, shapes, f', and its .meta graph cannot be scored ({e})'
    ) from e
  labels = np.asarray(data_set.labels)
  if labels.ndim == 2:  # One-hot labels: [N, 10] -> [N].
    labels = labels.argmax(axis=1)
  if not len(labels):
    model.close()
    return float('nan')
  with model:
    predictions = model.predict(data_set.images)
  return float(np.mean(predictions == labels))


def _build_eval_graph(network, shapes):
  """Builds `network`'s evaluation tower in a new graph.

  Returns:
    (graph, images, labels, logits, moving_averages).
  """
  graph = tf.Graph()
  with graph.as_default():
    images, labels = mnist.placeholder_inputs()
    logits = network.spec.build(network.params, images, False)
    averaged = all(
      f'{v.op.name}/{EMA_SUFFIX}' in shapes for v in tf.trainable_variables()
    )
  return graph, images, labels, logits, averaged


def read_checkpoint_model(prefix):
  """Reads which registered network checkpoint `prefix` holds.

  Raises:
    CheckpointError: the checkpoint cannot be read.
    CheckpointMismatchError: no registered network has its variables.
  """
  bundle_index.check_checkpoint(prefix)
  shapes = contents.variable_shapes(prefix)
  network = _network(prefix, shapes)
  return CheckpointModel(network, _build_eval_graph(network, shapes)[-1])


def _read_step(prefix):
  """The checkpoint's global step (or the `-<step>` suffix of its name)."""
  step = contents.checkpoint_step(prefix)
  if step is None:
    step = checkpoints.step_from_name(prefix)
  if step is None:
    raise errors.CheckpointMismatchError(
      f'Checkpoint {prefix} holds no global_step and its name does not '
      "end in '-<step>'; expected a checkpoint of "
      'graphnet.fully_connected_feed.',
      path=prefix,
    )
  return step


def evaluate_checkpoint(prefix, data_set, batch_size=None):
  """Restores checkpoint `prefix` into a fresh graph and scores `data_set`.

  Builds `mnist.placeholder_inputs` and the evaluation tower of the
  registered network the checkpoint holds (`models.read_config`) in a new
  `tf.Graph`, restores its variables - from their moving averages when
  the checkpoint has them - and counts correct predictions with an
  `evaluation.EvalTower`. A checkpoint no registered network recognises
  is scored with its own frozen inference graph by a `Predictor`
  (`_saved_graph_precision`).

  Args:
    prefix: checkpoint prefix, e.g. `logs/model.ckpt-2000`.
    data_set: an `input_data.DataSet` (images float32 `[N, 784]`, or the
      feature shape the checkpoint's graph takes).
    batch_size: examples per `session.run`; default the network's
      `ModelSpec.eval_batch_size` (10000 for a saved graph).

  Returns:
    (step, accuracy): int global step of the checkpoint, float fraction
    correct (NaN for an empty data set).

  Raises:
    CheckpointError: the checkpoint's files are missing or unreadable.
    CheckpointMismatchError: the checkpoint holds another model, and its
      `.meta` no graphnet graph.
  """
  if os.path.lexists(prefix + '.index'):
    # Says "a FIFO", "a link out of the directory", ... where the file is
    # there but not usable; files_present() would only say it is missing.
    bundle_index.check_checkpoint(prefix)
  if not checkpoints.files_present(prefix):
    raise errors.CheckpointError(
      f'Checkpoint {prefix} is incomplete: expected {prefix}.index and all '
      f'{prefix}.data-*-of-* shards. It may have been deleted by the '
      "trainer's keep_checkpoint_max.",
      path=prefix,
    )
  # TF's reader aborts the process on some crafted index entries.
  step_entry = bundle_index.check_checkpoint(prefix).entries.get('global_step')
  if step_entry and step_entry.dtype not in bundle_index.ITEM_BYTES:
    raise errors.CheckpointMismatchError(
      f'Checkpoint {errors.printable(prefix)} holds global_step as dtype '
      f'{step_entry.dtype}, expected an integer; it is not a checkpoint of '
      'graphnet.fully_connected_feed.',
      path=prefix,
    )
  shapes = contents.variable_shapes(prefix)
  if models.read_config(shapes) is None:
    precision = _saved_graph_precision(prefix, shapes, data_set, batch_size)
    return _read_step(prefix), precision
  network = _network(prefix, shapes)
  step = _read_step(prefix)
  graph, images, labels, logits, averaged = _build_eval_graph(network, shapes)
  with graph.as_default():
    tower = evaluation.EvalTower(
      images,
      labels,
      mnist.evaluation(logits, labels),
      batch_size or network.spec.eval_batch_size,
    )
    if averaged:
      # Only the shadow names matter for restoring; the decay is unused.
      var_list = tf.train.ExponentialMovingAverage(0.0).variables_to_restore()
    else:
      var_list = tf.global_variables()
    saver = tf.train.Saver(var_list)
    with tf.Session(graph=graph) as sess:
      try:
        saver.restore(sess, prefix)
      except (tf.errors.OpError, ValueError) as e:
        raise file_checks.unreadable(prefix, e, 'restored') from e
      result = tower.run(sess, data_set)
  return step, result.precision
