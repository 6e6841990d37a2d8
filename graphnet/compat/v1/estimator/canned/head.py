"""Heads of the premade estimators: TF 1.15's losses, metrics, predictions.

A head turns a model's logits into an `EstimatorSpec`: the training loss
(TF1's `loss_reduction`, `SUM` over the batch for the v1 estimators), the
train op, the eval metrics under TF1's names and the predictions and
export outputs TF1 served:

  binary (n_classes=2)  metrics accuracy, accuracy_baseline, auc,
                        auc_precision_recall, average_loss, label/mean,
                        prediction/mean, precision, recall;
                        predictions logits, logistic, probabilities,
                        class_ids, classes, all_class_ids, all_classes
  multi-class           metrics accuracy, average_loss; predictions as
                        binary without logistic
  regression            metrics average_loss, label/mean, prediction/mean;
                        predictions `predictions`

The Estimator adds `loss` (the mean over eval batches of the training
loss) and `global_step`. Export outputs: `serving_default` and
`classification` (scores = probabilities, classes as strings), binary also
`regression` (the logistic), regression heads `regression`, and `predict`
(every prediction).

Example:
  head = head_lib.classifier_head(n_classes=3)
  spec = head.create_estimator_spec(features, mode, logits, labels,
                                    optimizer=optimizer)
"""

from graphnet.compat.v1.estimator import export as export_lib
from graphnet.compat.v1.estimator.canned import _tf
from graphnet.compat.v1.estimator.canned import head_metrics
from graphnet.compat.v1.estimator.canned.keys import SERVING_KEYS
from graphnet.compat.v1.estimator.canned.keys import MetricKeys
from graphnet.compat.v1.estimator.canned.keys import PredictionKeys
from graphnet.compat.v1.estimator.model_fn import EstimatorSpec
from graphnet.errors import ConfigError
from graphnet.errors import DataError

__all__ = [
  'Head',
  'classifier_head',
  'regression_head',
  'MetricKeys',
  'PredictionKeys',
  'SERVING_KEYS',
]

_TRAIN, _EVAL, _PREDICT = 'train', 'eval', 'infer'


class Head:
  """Loss, metrics, predictions and export outputs for one kind of label.

  Use `classifier_head` or `regression_head` to make one.
  """

  def __init__(
    self,
    kind,
    n_classes=None,
    label_dimension=1,
    weight_column=None,
    label_vocabulary=None,
    loss_reduction=None,
  ):
    tf = _tf.v1()
    self._kind = kind
    self._n_classes = n_classes
    self._weight_column = weight_column
    self._label_vocabulary = (
      tuple(label_vocabulary) if label_vocabulary is not None else None
    )
    reductions = tf.losses.Reduction
    self._loss_reduction = loss_reduction or reductions.SUM
    if self._loss_reduction not in set(reductions.all()) - {reductions.NONE}:
      raise ConfigError(
        f'loss_reduction: expected a tf.losses.Reduction other than NONE '
        f'(default SUM, {reductions.SUM!r}), found {loss_reduction!r}.'
      )
    if kind == 'binary':
      self.logits_dimension = 1
    elif kind == 'multi_class':
      self.logits_dimension = n_classes
    else:
      self.logits_dimension = label_dimension

  # --- Labels and weights -------------------------------------------------

  def _labels(self, labels):
    """Labels as [batch, label_dim], class ids or floats."""
    tf = _tf.v1()
    if labels is None:
      raise DataError(
        'labels: the input_fn returned no labels, which training and '
        'evaluation need; return (features, labels) from it.'
      )
    if isinstance(labels, dict):
      if len(labels) != 1:
        raise DataError(
          f'labels: expected a Tensor, found a dict with keys '
          f'{sorted(labels)}; return one label Tensor.'
        )
      labels = next(iter(labels.values()))
    labels = tf.convert_to_tensor(labels)
    expected = 1 if self._kind != 'regression' else self.logits_dimension
    if labels.shape.ndims == 1:
      labels = tf.expand_dims(labels, -1)  # [batch, 1]
    if labels.shape.ndims is not None and labels.shape.ndims != 2:
      raise DataError(
        f'labels: expected shape [batch, {expected}] or [batch], found '
        f'{labels.shape}.'
      )
    last = labels.shape[-1]
    if last is not None and last != expected:
      raise DataError(
        f'labels: expected {expected} value(s) per example, found {last}; '
        'check n_classes / label_dimension and the shape of the labels.'
      )
    if self._kind == 'regression':
      return tf.cast(labels, tf.float32)
    return self._class_ids(labels)

  def _class_ids(self, labels):
    """Integer class ids in [0, n_classes), range-checked at run time."""
    tf = _tf.v1()
    if self._label_vocabulary is not None:
      if labels.dtype != tf.string:
        raise DataError(
          f'labels: expected strings (label_vocabulary is given), found '
          f'{labels.dtype.name}.'
        )
      vocab = tf.constant(self._label_vocabulary)
      hits = tf.cast(tf.equal(labels, vocab), tf.int64)  # [batch, n]
      # An unknown word matches nothing: id -1, refused by the range check.
      ids = tf.where(
        tf.reduce_max(hits, axis=-1) > 0,
        tf.argmax(hits, axis=-1),
        -tf.ones_like(hits[:, 0]),
      )[:, None]  # [batch, 1]
    else:
      if not labels.dtype.is_integer:
        raise DataError(
          f'labels: expected integer class ids, found {labels.dtype.name}; '
          'give label_vocabulary for string labels.'
        )
      ids = tf.cast(labels, tf.int64)
    message = f'Labels must be in [0, {self._n_classes - 1}]'
    checks = [
      tf.assert_less_equal(
        ids, tf.constant(self._n_classes - 1, tf.int64), message=message
      ),
      tf.assert_non_negative(ids, message=message),
    ]
    with tf.control_dependencies(checks):
      return tf.identity(ids)

  def _weights(self, features):
    """1.0, or the weight column as a float [batch, 1] Tensor."""
    tf = _tf.v1()
    if self._weight_column is None:
      return 1.0
    key = getattr(self._weight_column, 'key', self._weight_column)
    if key not in features:
      raise DataError(
        f'weight_column: feature {key!r} is missing from the features '
        f'(found {sorted(features)}).'
      )
    weights = tf.cast(features[key], tf.float32)
    if weights.shape.ndims == 1:
      weights = tf.expand_dims(weights, -1)  # [batch, 1]
    return weights

  def create_loss(self, features, mode, logits, labels):
    """(training_loss, unreduced_loss [batch, d], weights, labels)."""
    del mode
    tf = _tf.v1()
    labels = self._labels(labels)
    if self._kind == 'binary':
      unreduced = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.float32), logits=logits
      )
    elif self._kind == 'multi_class':
      unreduced = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels[:, 0], logits=logits
      )[:, None]  # [batch, 1]
    else:
      unreduced = tf.square(logits - labels)
    weights = self._weights(features)
    training_loss = tf.losses.compute_weighted_loss(
      unreduced,
      weights=weights,
      reduction=self._loss_reduction,
      loss_collection=None,
    )
    return training_loss, unreduced, weights, labels

  # --- Predictions --------------------------------------------------------

  def _predictions(self, logits):
    tf = _tf.v1()
    keys = PredictionKeys
    if self._kind == 'regression':
      return {keys.PREDICTIONS: logits}
    n = self._n_classes
    batch = tf.shape(logits)[0]
    out = {keys.LOGITS: logits}
    if self._kind == 'binary':
      out[keys.LOGISTIC] = tf.sigmoid(logits, name=keys.LOGISTIC)
      two_class = tf.concat([tf.zeros_like(logits), logits], axis=-1)
    else:
      two_class = logits
    out[keys.PROBABILITIES] = tf.nn.softmax(two_class, name=keys.PROBABILITIES)
    class_ids = tf.argmax(two_class, axis=-1)[:, None]  # [batch, 1] int64
    out[keys.CLASS_IDS] = class_ids
    names = self._class_names()
    out[keys.CLASSES] = tf.gather(names, class_ids)
    out[keys.ALL_CLASS_IDS] = tf.tile(tf.range(n)[None, :], [batch, 1])
    out[keys.ALL_CLASSES] = tf.tile(names[None, :], [batch, 1])
    return out

  def _class_names(self):
    """[n_classes] string Tensor: the vocabulary, or '0', '1', ..."""
    tf = _tf.v1()
    if self._label_vocabulary is not None:
      return tf.constant(self._label_vocabulary)
    return tf.as_string(tf.range(self._n_classes))

  def _export_outputs(self, predictions):
    keys = PredictionKeys
    if self._kind == 'regression':
      regress = export_lib.RegressionOutput(value=predictions[keys.PREDICTIONS])
      return {
        SERVING_KEYS['default']: regress,
        SERVING_KEYS['regress']: regress,
        SERVING_KEYS['predict']: export_lib.PredictOutput(predictions),
      }
    tf = _tf.v1()
    batch = tf.shape(predictions[keys.LOGITS])[0]
    classes = tf.tile(self._class_names()[None, :], [batch, 1])
    classify = export_lib.ClassificationOutput(
      scores=predictions[keys.PROBABILITIES], classes=classes
    )
    outputs = {
      SERVING_KEYS['default']: classify,
      SERVING_KEYS['classify']: classify,
      SERVING_KEYS['predict']: export_lib.PredictOutput(predictions),
    }
    if self._kind == 'binary':
      outputs[SERVING_KEYS['regress']] = export_lib.RegressionOutput(
        value=predictions[keys.LOGISTIC]
      )
    return outputs

  # --- The spec -----------------------------------------------------------

  def create_estimator_spec(
    self,
    features,
    mode,
    logits,
    labels=None,
    optimizer=None,
    train_op_fn=None,
  ):
    """Returns the EstimatorSpec for `mode`.

    Args:
      features: dict of feature Tensors (read for the weight column).
      mode: a ModeKeys value.
      logits: float32 [batch, logits_dimension].
      labels: [batch] or [batch, 1] class ids (strings with a vocabulary),
        or float [batch, label_dimension] for regression; TRAIN and EVAL.
      optimizer: a TF1 Optimizer minimizing the loss in TRAIN mode, or
      train_op_fn: a function of the loss returning the train op (exactly
        one of the two in TRAIN mode).

    Returns:
      an EstimatorSpec. In TRAIN mode the head writes the `average_loss`
      summary when the reduction is SUM, as TF1's did (the Estimator
      writes `loss`).
    """
    tf = _tf.v1()
    mode = str(mode)
    with tf.name_scope('head'):
      logits = tf.convert_to_tensor(logits)
      if logits.shape.ndims == 1:
        logits = tf.expand_dims(logits, -1)  # [batch, 1]
      if logits.shape[-1] is not None and logits.shape[-1] != (
        self.logits_dimension
      ):
        raise DataError(
          f'logits: expected last dimension {self.logits_dimension}, found '
          f'shape {logits.shape}.'
        )
      with tf.name_scope('predictions'):
        predictions = self._predictions(logits)
      if mode == _PREDICT:
        return EstimatorSpec(
          mode=mode,
          predictions=predictions,
          export_outputs=self._export_outputs(predictions),
        )
      loss, unreduced, weights, labels = self.create_loss(
        features, mode, logits, labels
      )
      if mode == _EVAL:
        return EstimatorSpec(
          mode=mode,
          predictions=predictions,
          loss=loss,
          eval_metric_ops=head_metrics.eval_metric_ops(
            self._kind, predictions, labels, weights, unreduced
          ),
        )
      if (optimizer is None) == (train_op_fn is None):
        raise ConfigError(
          'create_estimator_spec: give exactly one of optimizer and '
          'train_op_fn in TRAIN mode.'
        )
      if optimizer is not None:
        train_op = optimizer.minimize(
          loss, global_step=tf.train.get_global_step()
        )
      else:
        train_op = train_op_fn(loss)
      # Batch norm's moving averages (TF1's _append_update_ops).
      update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
      if update_ops:
        train_op = tf.group(train_op, *update_ops)
    # The Estimator writes the `loss` summary itself (one tag, as TF1's
    # Estimator skipped its own when the head had written one).
    with tf.name_scope(''):
      if self._loss_reduction == tf.losses.Reduction.SUM:
        weight_sum = tf.reduce_sum(weights * tf.ones_like(unreduced))
        tf.summary.scalar(MetricKeys.LOSS_MEAN, loss / weight_sum)
    return EstimatorSpec(
      mode=mode, predictions=predictions, loss=loss, train_op=train_op
    )


def classifier_head(
  n_classes=2, weight_column=None, label_vocabulary=None, loss_reduction=None
):
  """The binary head for n_classes == 2, else the multi-class head.

  Raises:
    ConfigError: n_classes below 2, or a vocabulary of another length.
  """
  if not isinstance(n_classes, int) or n_classes < 2:
    raise ConfigError(f'n_classes: expected an int >= 2, found {n_classes!r}.')
  if label_vocabulary is not None:
    if isinstance(label_vocabulary, str) or not all(
      isinstance(word, str) for word in label_vocabulary
    ):
      raise ConfigError(
        'label_vocabulary: expected a list of strings, found '
        f'{label_vocabulary!r}.'
      )
    if len(label_vocabulary) != n_classes:
      raise ConfigError(
        f'label_vocabulary: expected {n_classes} words (n_classes), found '
        f'{len(label_vocabulary)}.'
      )
  return Head(
    'binary' if n_classes == 2 else 'multi_class',
    n_classes=n_classes,
    weight_column=weight_column,
    label_vocabulary=label_vocabulary,
    loss_reduction=loss_reduction,
  )


def regression_head(label_dimension=1, weight_column=None, loss_reduction=None):
  """Mean squared error head for float labels [batch, label_dimension]."""
  if not isinstance(label_dimension, int) or label_dimension < 1:
    raise ConfigError(
      f'label_dimension: expected an int >= 1, found {label_dimension!r}.'
    )
  return Head(
    'regression',
    label_dimension=label_dimension,
    weight_column=weight_column,
    loss_reduction=loss_reduction,
  )
