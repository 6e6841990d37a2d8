"""Evaluates the trainer's checkpoints as they appear (TF1's `mnist_eval`).

The evaluator runs beside the trainer: every `interval_secs` it asks the
trainer's `checkpoint` state file for the newest checkpoint, and evaluates
each new one once, in a graph built fresh by the network's `ModelSpec`
(`models`), which also reads the network's hyperparameters back from the
checkpoint's variable shapes. When the checkpoint holds moving averages
(`.../ExponentialMovingAverage`) they are restored into the plain
variables (`variables_to_restore`), so the evaluator scores the weights the
trainer evaluates with.

A checkpoint of a network the registry cannot recognise (a user's model
callable trained with `graphnet.train`, or a built-in network on other
data) is scored through its saved graph instead: the checked inference
subgraph of its `.meta` with the checkpoint's weights as constants
(`freezing.frozen_graph_def`; the moving averages when the model was
trained with them), so nothing of the file runs but inference.

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

import contextlib
import dataclasses
import os
import time

import numpy as np
import tensorflow.compat.v1 as tf
from absl import logging

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
  'EvalRecord',
  'read_checkpoint_model',
  'evaluate_checkpoint',
  'evaluation_loop',
  'check_event_dir',
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


@dataclasses.dataclass(frozen=True)
class EvalRecord:
  """One evaluated checkpoint."""

  # The checkpoint prefix, e.g. `logs/model.ckpt-2000`.
  prefix: str
  # Its global step.
  step: int
  # Fraction of the data set predicted correctly.
  accuracy: float


def _mismatch(prefix, shapes, reason=''):
  names = ', '.join(f'{n} {s}' for n, s in sorted(shapes.items())[:8])
  return errors.CheckpointMismatchError(
    f'Checkpoint {prefix} is not a graphnet model: no registered network '
    f'({", ".join(models.names())}) has its variables{reason}. Found: '
    f'{names or "no variables"}. Point --checkpoint_dir at the log_dir '
    'of graphnet.fully_connected_feed.',
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
        raise errors.CheckpointError(
          f'Checkpoint {errors.printable(prefix)} cannot be restored: '
          f'{file_checks.read_error_detail(e)}',
          path=prefix,
        ) from e
      result = tower.run(sess, data_set)
  return step, result.precision


def _latest(checkpoint_dir, strict=False):
  """The newest complete checkpoint of `checkpoint_dir`, or None.

  With `strict`, a state file that cannot be read (not a regular file,
  naming a checkpoint outside the directory) raises CheckpointError
  instead of being logged and retried.
  """
  with contextlib.suppress(errors.CheckpointError):
    # The graph is rebuilt from the variables: no .meta needed.
    return checkpoints.latest_complete_checkpoint(
      checkpoint_dir, require_meta=False
    )
  # None is complete: the newest is named, to be reported and retried.
  try:
    return checkpoints.state_prefix(checkpoint_dir)
  except errors.CheckpointError as e:
    if strict:
      raise
    logging.warning('%s', e)
    return None


def _evaluate_newest(checkpoint_dir, prefix, data_set):
  """(prefix, step, accuracy) of `prefix`, or of the newest after it.

  The trainer's keep_checkpoint_max may delete `prefix` while it is
  restored; the state is then looked up once more (`read_with_retry`).
  """
  found = [prefix]

  def resolve():
    latest = found.pop() if found else _latest(checkpoint_dir)
    if latest is None:
      raise errors.CheckpointError(
        f'{checkpoint_dir} no longer lists a checkpoint.', path=checkpoint_dir
      )
    return latest

  def evaluate(latest):
    return (latest, *evaluate_checkpoint(latest, data_set))

  return checkpoints.read_with_retry(resolve, evaluate, require_meta=False)


def check_event_dir(eval_dir):
  """Refuses an `eval_dir` that is a symbolic link.

  The default `eval_<subset>` lies in the checkpoint directory, which may
  come from someone else: a link there would send the events (and the
  writability probe) to another directory.

  Raises:
    ConfigError: `eval_dir` is a symbolic link.
  """
  if os.path.islink(eval_dir):
    raise errors.ConfigError(
      f'eval directory {errors.printable(eval_dir)} is a symbolic link; '
      'summaries are written only into a real directory, never through a '
      'link. Remove the link, or pass the directory it points to as '
      '--eval_dir.',
      field='eval_dir',
    )


def _make_writer(eval_dir):
  check_event_dir(eval_dir)
  os.makedirs(eval_dir, exist_ok=True)
  # A link put there since the check is not followed either.
  os.close(os.open(eval_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW))
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
  stop_at_step=None,
):
  """Evaluates each new checkpoint of `checkpoint_dir` once.

  Polls every `interval_secs` (the time spent evaluating counts towards
  it). Prints `After <step> training step(s), <subset> accuracy = <acc>`
  per checkpoint (then, watching, one line saying what it waits for), or
  `No checkpoint file found` while there is none, and
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
    stop_at_step: return after evaluating a checkpoint of this global
      step or later (training has ended: a cluster's evaluator task);
      None = keep watching.

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
  records, done, writer, announced = [], set(), None, set()
  last_new = clock()
  try:
    while True:
      started = clock()
      prefix = _latest(checkpoint_dir, strict=run_once)
      if prefix is None:
        printer('No checkpoint file found')
      elif prefix not in done:
        try:
          prefix, step, accuracy = _evaluate_newest(
            checkpoint_dir, prefix, data_set
          )
        except errors.CheckpointMismatchError:
          raise
        except errors.CheckpointError as e:
          if run_once:
            # No later poll to retry at: say why there is no result.
            raise
          shown = errors.printable(prefix)
          logging.warning('Skipping checkpoint %s for now: %s', shown, e)
          printer(f'Skipping checkpoint {shown}: it cannot be read yet.')
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
      if (
        stop_at_step is not None
        and records
        and (records[-1].step >= stop_at_step)
      ):
        printer(
          f'Training reached step {records[-1].step} (>= {stop_at_step}); '
          'stopping the evaluator.'
        )
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
      if records and records[-1].prefix not in announced:
        # Otherwise a watching evaluator looks hung after its first line.
        announced.add(records[-1].prefix)
        printer(
          f'Waiting for a checkpoint newer than step {records[-1].step} in '
          f'{errors.printable(checkpoint_dir)} (checking every '
          f'{interval_secs:g} s; Ctrl-C stops).'
        )
      if wait > 0:
        sleep(wait)
  finally:
    if writer is not None:
      writer.close()
