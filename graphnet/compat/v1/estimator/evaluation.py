"""`Estimator.evaluate` and `Estimator.predict`: a checkpoint on new data.

Both build the model_fn's graph in its mode (EVAL or PREDICT), restore a
checkpoint (the latest in `model_dir` unless one is named; none: freshly
initialised variables, logged) in a `MonitoredSession` and run until the
input ends or the hooks stop. `evaluate` runs the metric updates, logs
TF1's `Saving dict for global step N: ...` line and writes every scalar
metric to `<model_dir>/eval` (or `eval_<name>`); `predict` yields the
predictions one example (or one batch) at a time.

Example:
    metrics = evaluate(estimator, eval_input_fn, steps=None)
    for prediction in predict(estimator, input_fn):
      ...
"""

import datetime
import os

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1.estimator import calls
from graphnet.compat.v1.estimator import model_fn as model_fn_lib
from graphnet.compat.v1.estimator import run_hooks

__all__ = ['checkpoint_to_use', 'evaluate', 'predict']

ModeKeys = model_fn_lib.ModeKeys


def checkpoint_to_use(estimator, checkpoint_path=None):
  """`checkpoint_path` (a directory's latest), else the model_dir's latest."""
  if checkpoint_path:
    if os.path.isdir(checkpoint_path):
      return tf.train.latest_checkpoint(checkpoint_path)
    return checkpoint_path
  return estimator.latest_checkpoint()


def _checkpoint_logged(estimator, checkpoint_path, what):
  """The checkpoint to restore; None (logged): initialise the variables."""
  checkpoint = checkpoint_to_use(estimator, checkpoint_path)
  if checkpoint is None:
    tf.logging.info(
      'Could not find trained model in model_dir: %s, running '
      'initialization to %s.',
      estimator.model_dir,
      what,
    )
  return checkpoint


def _session(estimator, spec, checkpoint, hooks):
  """A MonitoredSession on the default graph restoring `checkpoint`."""
  creator = tf.train.ChiefSessionCreator(
    scaffold=spec.scaffold,
    checkpoint_filename_with_path=checkpoint,
    config=estimator.config.session_config,
  )
  return tf.train.MonitoredSession(session_creator=creator, hooks=hooks)


def evaluate(estimator, input_fn, steps, hooks, checkpoint_path, name):
  """`Estimator.evaluate` (which documents it): the metrics dict."""
  if steps is not None and steps <= 0:
    raise errors.ConfigError(
      f'evaluate: steps must be > 0 or None, got {steps}.', field='steps'
    )
  graph, global_step, spec, input_hooks = calls.build(
    estimator, input_fn, ModeKeys.EVAL
  )
  checkpoint = _checkpoint_logged(estimator, checkpoint_path, 'evaluate')
  with graph.as_default():
    metrics = dict(spec.eval_metric_ops)
    if 'loss' not in metrics:
      metrics['loss'] = tf.metrics.mean(spec.loss)
    values = {k: v[0] for k, v in metrics.items()}
    values['global_step'] = global_step
    update = tf.group(*[v[1] for v in metrics.values()])
    final = tf.train.FinalOpsHook(values)
    all_hooks = [
      *input_hooks,
      run_hooks.EvalProgressHook(steps),
      *(hooks or []),
      *spec.evaluation_hooks,
      final,
    ]
    tf.logging.info('Starting evaluation at %s', _now())
    with _session(estimator, spec, checkpoint, all_hooks) as session:
      while not session.should_stop():
        session.run(update)
    tf.logging.info('Finished evaluation at %s', _now())
  result = dict(final.final_ops_values)
  tf.logging.info(
    'Saving dict for global step %d: %s',
    result['global_step'],
    _dict_line(result),
  )
  _write_eval_summary(run_hooks.eval_dir(estimator.model_dir, name), result)
  return result


def predict(
  estimator, input_fn, predict_keys, hooks, checkpoint_path, single_examples
):
  """`Estimator.predict` (which documents it): yields predictions."""
  graph, _, spec, input_hooks = calls.build(
    estimator, input_fn, ModeKeys.PREDICT
  )
  checkpoint = _checkpoint_logged(estimator, checkpoint_path, 'predict')
  predictions = _select(spec.predictions, predict_keys)
  all_hooks = [*input_hooks, *(hooks or []), *spec.prediction_hooks]
  with (
    graph.as_default(),
    _session(estimator, spec, checkpoint, all_hooks) as session,
  ):
    while not session.should_stop():
      batch = session.run(predictions)
      if not single_examples:
        yield batch
        continue
      yield from _examples(batch)


def _now():
  return datetime.datetime.now(datetime.timezone.utc).strftime(
    '%Y-%m-%dT%H:%M:%SZ'
  )


def _dict_line(result):
  """TF1's `k = v, ...` of a result dict, sorted by key, bytes left out."""
  return ', '.join(
    f'{k} = {v!s}'
    for k, v in sorted(result.items())
    if not isinstance(v, bytes)
  )


def _write_eval_summary(directory, result):
  """Writes each scalar metric of `result` at its global step."""
  values = []
  for key, value in sorted(result.items()):
    if key == 'global_step':
      continue
    array = np.asarray(value)
    if array.ndim == 0 and array.dtype.kind in 'fiub':
      values.append(tf.Summary.Value(tag=key, simple_value=float(array)))
    else:
      tf.logging.warning(
        'Skipping summary for %s, must be a float or np.float32.', key
      )
  writer = tf.summary.FileWriterCache.get(directory)
  writer.add_summary(tf.Summary(value=values), int(result['global_step']))
  writer.flush()


def _select(predictions, keys):
  if keys is None:
    return predictions
  if isinstance(keys, str):
    keys = [keys]
  if not isinstance(predictions, dict):
    raise errors.ConfigError(
      'predict: predict_keys given but model_fn returned one prediction '
      'tensor, not a dict.',
      field='predict_keys',
    )
  missing = [k for k in keys if k not in predictions]
  if missing:
    raise errors.ConfigError(
      f'predict: predict_keys {missing} are not predictions; the model '
      f'predicts {sorted(predictions)}.',
      field='predict_keys',
    )
  return {k: predictions[k] for k in keys}


def _examples(batch):
  """Splits one batch of predictions into examples (first dimension)."""
  if not isinstance(batch, dict):
    yield from batch
    return
  sizes = {k: len(v) for k, v in batch.items()}
  if len(set(sizes.values())) > 1:
    raise errors.ConfigError(
      f'predict: the predictions have different batch sizes {sizes}; with '
      'yield_single_examples=True every prediction needs the batch first.',
      field='predictions',
    )
  for i in range(next(iter(sizes.values()), 0)):
    yield {k: v[i] for k, v in batch.items()}
