"""`slim.metrics` (TF 1.15's `tf.contrib.metrics`): the streaming metrics.

Each returns (value, update_op) as `tf.metrics` (local variables: run
`tf.local_variables_initializer()`), with predictions first, as TF1's
contrib did.

Example:
    names_to_values, names_to_updates = slim.metrics.aggregate_metric_map({
        'accuracy': slim.metrics.streaming_accuracy(predictions, labels)})
"""

import tensorflow.compat.v1 as tf

__all__ = [
  'aggregate_metric_map',
  'aggregate_metrics',
  'streaming_accuracy',
  'streaming_mean',
  'streaming_mean_absolute_error',
  'streaming_mean_squared_error',
  'streaming_precision',
  'streaming_recall',
]


def _predictions_first(metric, public_name, doc):
  """`tf.metrics.<metric>` with predictions before labels, as contrib's."""

  def streaming(
    predictions,
    labels,
    weights=None,
    metrics_collections=None,
    updates_collections=None,
    name=None,
  ):
    return getattr(tf.metrics, metric)(
      labels,
      predictions,
      weights,
      metrics_collections,
      updates_collections,
      name,
    )

  streaming.__name__ = streaming.__qualname__ = public_name
  streaming.__doc__ = doc
  return streaming


def streaming_mean(
  values,
  weights=None,
  metrics_collections=None,
  updates_collections=None,
  name=None,
):
  """(mean, update_op): the running (weighted) mean of `values`."""
  return tf.metrics.mean(
    values, weights, metrics_collections, updates_collections, name
  )


streaming_accuracy = _predictions_first(
  'accuracy',
  'streaming_accuracy',
  '(accuracy, update_op): the running fraction of predictions == labels.',
)
streaming_mean_absolute_error = _predictions_first(
  'mean_absolute_error',
  'streaming_mean_absolute_error',
  '(error, update_op): the running mean |predictions - labels|.',
)
streaming_mean_squared_error = _predictions_first(
  'mean_squared_error',
  'streaming_mean_squared_error',
  '(error, update_op): the running mean (predictions - labels) ** 2.',
)
streaming_precision = _predictions_first(
  'precision',
  'streaming_precision',
  '(precision, update_op) of boolean predictions and labels.',
)
streaming_recall = _predictions_first(
  'recall',
  'streaming_recall',
  '(recall, update_op) of boolean predictions and labels.',
)


def aggregate_metrics(*value_update_tuples):
  """([values], [update_ops]) of several (value, update_op) pairs.

  Raises:
    ValueError: no pair is given.
  """
  if not value_update_tuples:
    raise ValueError('aggregate_metrics: expected at least one metric pair.')
  values, updates = zip(*value_update_tuples, strict=True)
  return list(values), list(updates)


def aggregate_metric_map(names_to_tuples):
  """({name: value}, {name: update_op}) of {name: (value, update_op)}."""
  names = list(names_to_tuples)
  values, updates = aggregate_metrics(*names_to_tuples.values())
  return dict(zip(names, values, strict=True)), dict(
    zip(names, updates, strict=True)
  )
