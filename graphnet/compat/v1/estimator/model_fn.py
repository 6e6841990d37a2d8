"""What a `model_fn` returns: `EstimatorSpec`, and the `ModeKeys`.

A TF1 `model_fn(features, labels, mode, params, config)` builds the graph
for one mode and returns an `EstimatorSpec` naming the tensors the
Estimator runs: the loss and train op to train, the metric pairs to
evaluate, the predictions (and export outputs) to predict and serve.

Example:
    def model_fn(features, labels, mode):
      logits = tf.layers.dense(features['x'], 3)
      if mode == ModeKeys.PREDICT:
        return EstimatorSpec(mode, predictions={'logits': logits})
      loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
      train_op = tf.train.AdamOptimizer().minimize(
          loss, tf.train.get_global_step())
      return EstimatorSpec(mode, loss=loss, train_op=train_op)
"""

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1.estimator import _spec_tuple

__all__ = ['EstimatorSpec', 'ModeKeys']


class ModeKeys:
  """The three modes a `model_fn` is called in (TF1's string values)."""

  TRAIN = 'train'
  EVAL = 'eval'
  PREDICT = 'infer'


_MODES = (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT)

# The fields holding hook lists (tuples once checked).
_HOOKS = (
  'training_chief_hooks',
  'training_hooks',
  'evaluation_hooks',
  'prediction_hooks',
)


def _fail(field, message):
  raise errors.ConfigError(f'EstimatorSpec: {field} {message}', field=field)


def _check_hooks(field, hooks):
  hooks = tuple(hooks or ())
  for hook in hooks:
    if not isinstance(hook, tf.train.SessionRunHook):
      _fail(field, f'must hold SessionRunHooks, got {type(hook).__name__}.')
  return hooks


def _check_tensor(field, value):
  if not isinstance(value, (tf.Tensor, tf.Operation, tf.Variable)):
    _fail(field, f'must be a Tensor or Operation, got {type(value).__name__}.')


def _check_metrics(eval_metric_ops):
  metrics = dict(eval_metric_ops or {})
  for name, pair in metrics.items():
    if not isinstance(name, str):
      _fail('eval_metric_ops', f'keys must be strings, got {name!r}.')
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
      _fail(
        'eval_metric_ops',
        f'[{name!r}] must be a (value_op, update_op) pair as tf.metrics '
        f'functions return, got {type(pair).__name__}.',
      )
  return metrics


class EstimatorSpec(
  _spec_tuple.spec_tuple(
    'EstimatorSpec',
    'mode',
    predictions=None,
    loss=None,
    train_op=None,
    eval_metric_ops=None,
    export_outputs=None,
    training_chief_hooks=None,
    training_hooks=None,
    scaffold=None,
    evaluation_hooks=None,
    prediction_hooks=None,
  )
):
  """The ops and objects a `model_fn` returns for one mode.

  Fields (TF1's): `mode`; `predictions` (a tensor or a dict of tensors,
  batch dimension first); `loss` (float scalar); `train_op`;
  `eval_metric_ops` (name -> `(value_op, update_op)`); `export_outputs`
  (signature name -> `export.ExportOutput`); `training_chief_hooks`,
  `training_hooks`, `evaluation_hooks`, `prediction_hooks`; `scaffold`.
  """

  __slots__ = ()

  def _checked(self):
    """Checks the fields the mode needs.

    Raises:
      ConfigError: a field the mode needs is missing or of the wrong kind
        (the message names it).
    """
    mode, loss, predictions = self.mode, self.loss, self.predictions
    if mode not in _MODES:
      _fail('mode', f'must be one of {_MODES}, got {mode!r}.')
    if mode == ModeKeys.TRAIN:
      if self.train_op is None:
        _fail('train_op', 'is required in mode TRAIN.')
      _check_tensor('train_op', self.train_op)
    if mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
      if loss is None:
        _fail('loss', f'is required in mode {mode.upper()}.')
      _check_tensor('loss', loss)
      if loss.shape.ndims not in (None, 0):
        _fail('loss', f'must be a scalar, got shape {loss.shape}.')
    if mode == ModeKeys.PREDICT and predictions is None:
      _fail('predictions', 'are required in mode PREDICT.')
    if isinstance(predictions, dict):
      for key, value in predictions.items():
        _check_tensor(f'predictions[{key!r}]', value)
    elif predictions is not None:
      _check_tensor('predictions', predictions)
    scaffold = self.scaffold
    if scaffold is not None and not isinstance(scaffold, tf.train.Scaffold):
      _fail('scaffold', f'must be a tf.train.Scaffold, got {scaffold!r}.')
    return self._replace(
      eval_metric_ops=_check_metrics(self.eval_metric_ops),
      scaffold=scaffold or tf.train.Scaffold(),
      **{name: _check_hooks(name, getattr(self, name)) for name in _HOOKS},
    )
