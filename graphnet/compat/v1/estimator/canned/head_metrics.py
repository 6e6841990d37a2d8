"""The eval metrics of TF 1.15's canned heads (`tf.metrics`, TF1's names).

  binary        accuracy, accuracy_baseline, auc, auc_precision_recall,
                average_loss, label/mean, prediction/mean, precision, recall
  multi-class   accuracy, average_loss
  regression    average_loss, label/mean, prediction/mean

Example:
  ops = eval_metric_ops('binary', predictions, labels, 1.0, unreduced_loss)
"""

from graphnet.compat.v1.estimator.canned import _tf
from graphnet.compat.v1.estimator.canned.keys import MetricKeys
from graphnet.compat.v1.estimator.canned.keys import PredictionKeys

__all__ = ['eval_metric_ops']


def eval_metric_ops(kind, predictions, labels, weights, unreduced_loss):
  """TF 1.15's eval metrics of a head, {MetricKeys name: (value, update)}.

  Args:
    kind: 'binary', 'multi_class' or 'regression'.
    predictions: the head's prediction dict (`PredictionKeys`).
    labels: [batch, 1] class ids, or [batch, label_dimension] floats.
    weights: a float 1.0 (no weight column) or [batch, 1] weights.
    unreduced_loss: [batch, ...] per-example losses.

  Returns:
    the metric ops, made in the name scope 'metrics'.
  """
  tf = _tf.v1()
  keys = MetricKeys
  pk = PredictionKeys
  w = None if isinstance(weights, float) else weights
  with tf.name_scope('metrics'):
    ops = {
      keys.LOSS_MEAN: tf.metrics.mean(
        unreduced_loss, weights=_broadcast(w, unreduced_loss)
      )
    }
    if kind == 'regression':
      value = predictions[pk.PREDICTIONS]
      ops[keys.PREDICTION_MEAN] = tf.metrics.mean(
        value, weights=_broadcast(w, value)
      )
      ops[keys.LABEL_MEAN] = tf.metrics.mean(
        labels, weights=_broadcast(w, labels)
      )
      return ops
    class_ids = predictions[pk.CLASS_IDS]
    ops[keys.ACCURACY] = tf.metrics.accuracy(labels, class_ids, weights=w)
    if kind == 'multi_class':
      return ops
    float_labels = tf.cast(labels, tf.float32)
    logistic = predictions[pk.LOGISTIC]
    label_mean = tf.metrics.mean(
      float_labels, weights=_broadcast(w, float_labels)
    )
    ops[keys.LABEL_MEAN] = label_mean
    ops[keys.ACCURACY_BASELINE] = (
      tf.maximum(label_mean[0], 1.0 - label_mean[0]),
      tf.maximum(label_mean[1], 1.0 - label_mean[1]),
    )
    ops[keys.PRECISION] = tf.metrics.precision(labels, class_ids, weights=w)
    ops[keys.RECALL] = tf.metrics.recall(labels, class_ids, weights=w)
    ops[keys.PREDICTION_MEAN] = tf.metrics.mean(
      logistic, weights=_broadcast(w, logistic)
    )
    ops[keys.AUC] = tf.metrics.auc(
      labels, logistic, weights=_broadcast(w, logistic)
    )
    ops[keys.AUC_PR] = tf.metrics.auc(
      labels, logistic, weights=_broadcast(w, logistic), curve='PR'
    )
    return ops


def _broadcast(weights, values):
  """Weights broadcast to `values`' shape, or None."""
  if weights is None:
    return None
  tf = _tf.v1()
  return weights * tf.ones_like(values)
