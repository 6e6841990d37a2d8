"""The names TF 1.15's canned heads give metrics, predictions, signatures.

`MetricKeys` (eval metric names), `PredictionKeys` (prediction dict keys)
and `SERVING_KEYS` (export signature names), as tf.estimator's
`metric_keys`, `prediction_keys` and head.py defined them; the checkpoint
and export goldens depend on them.

Example:
  probabilities = predictions[PredictionKeys.PROBABILITIES]
"""

__all__ = [
  'MetricKeys',
  'PredictionKeys',
  'SERVING_KEYS',
]


class MetricKeys:
  """TF 1.15's metric names (tf.estimator's canned metric_keys)."""

  LOSS = 'loss'
  LOSS_MEAN = 'average_loss'
  ACCURACY = 'accuracy'
  PRECISION = 'precision'
  RECALL = 'recall'
  ACCURACY_BASELINE = 'accuracy_baseline'
  AUC = 'auc'
  AUC_PR = 'auc_precision_recall'
  LABEL_MEAN = 'label/mean'
  PREDICTION_MEAN = 'prediction/mean'


class PredictionKeys:
  """TF 1.15's prediction keys."""

  LOGITS = 'logits'
  LOGISTIC = 'logistic'
  PROBABILITIES = 'probabilities'
  CLASS_IDS = 'class_ids'
  CLASSES = 'classes'
  ALL_CLASS_IDS = 'all_class_ids'
  ALL_CLASSES = 'all_classes'
  PREDICTIONS = 'predictions'


# Signature keys of the export outputs (TF1's head.py).
SERVING_KEYS = {
  'default': 'serving_default',
  'classify': 'classification',
  'regress': 'regression',
  'predict': 'predict',
}
