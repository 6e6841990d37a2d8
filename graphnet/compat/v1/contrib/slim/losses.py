"""`slim.losses` (TF 1.15's `tf.contrib.losses`): losses in TF1's order.

Each loss is the weighted mean over the elements with non-zero weight,
added to `tf.GraphKeys.LOSSES`; `get_total_loss()` adds those and the
regularization losses. Unlike `tf.losses`, predictions or logits come
first: `softmax_cross_entropy(logits, onehot_labels)`.

Example:
    slim.losses.softmax_cross_entropy(logits, one_hot_labels)
    total_loss = slim.losses.get_total_loss()  # + weights_regularizer losses
"""

import tensorflow.compat.v1 as tf

__all__ = [
  'absolute_difference',
  'add_loss',
  'compute_weighted_loss',
  'cosine_distance',
  'get_losses',
  'get_regularization_losses',
  'get_total_loss',
  'hinge_loss',
  'log_loss',
  'mean_pairwise_squared_error',
  'mean_squared_error',
  'sigmoid_cross_entropy',
  'softmax_cross_entropy',
  'sparse_softmax_cross_entropy',
]


def add_loss(loss, loss_collection=tf.GraphKeys.LOSSES):
  """Adds `loss` to `loss_collection` (None: nowhere)."""
  if loss_collection:
    tf.add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=tf.GraphKeys.LOSSES):
  """The losses in `loss_collection` under `scope`."""
  return tf.get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
  """The losses in `REGULARIZATION_LOSSES` under `scope`."""
  return tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES, scope)


def get_total_loss(add_regularization_losses=True, name='total_loss'):
  """The sum of the losses (and regularization losses): a scalar.

  Raises:
    ValueError: there is no loss at all.
  """
  losses = get_losses()
  if add_regularization_losses:
    losses += get_regularization_losses()
  if not losses:
    raise ValueError(
      'get_total_loss: no losses in tf.GraphKeys.LOSSES (nor regularization '
      'losses); call a slim.losses function or add_loss first.'
    )
  return tf.add_n(losses, name=name)


def compute_weighted_loss(losses, weights=1.0, scope=None):
  """The weighted mean of `losses` (over non-zero weights), collected."""
  return tf.losses.compute_weighted_loss(losses, weights, scope=scope)


def absolute_difference(predictions, labels=None, weights=1.0, scope=None):
  """Mean |predictions - labels|."""
  return tf.losses.absolute_difference(labels, predictions, weights, scope)


def cosine_distance(
  predictions, labels=None, axis=None, weights=1.0, scope=None, dim=None
):
  """Mean 1 - cos(predictions, labels) along `axis` (unit vectors)."""
  axis = dim if axis is None else axis
  return tf.losses.cosine_distance(labels, predictions, axis, weights, scope)


def hinge_loss(logits, labels=None, scope=None):
  """relu(1 - (2 * labels - 1) * logits), unreduced and not collected."""
  with tf.name_scope(scope, 'hinge_loss', [logits, labels]):
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.float32)
    logits.shape.assert_is_compatible_with(labels.shape)
    signs = 2.0 * labels - 1.0
    return tf.nn.relu(1.0 - signs * logits)


def log_loss(predictions, labels=None, weights=1.0, epsilon=1e-7, scope=None):
  """Mean -labels * log(p + eps) - (1 - labels) * log(1 - p + eps)."""
  return tf.losses.log_loss(labels, predictions, weights, epsilon, scope)


def mean_pairwise_squared_error(
  predictions, labels=None, weights=1.0, scope=None
):
  """Mean squared difference of all pairs' differences, per example."""
  return tf.losses.mean_pairwise_squared_error(
    labels, predictions, weights, scope
  )


def mean_squared_error(predictions, labels=None, weights=1.0, scope=None):
  """Mean (predictions - labels) ** 2."""
  return tf.losses.mean_squared_error(labels, predictions, weights, scope)


def sigmoid_cross_entropy(
  logits, multi_class_labels, weights=1.0, label_smoothing=0, scope=None
):
  """Mean sigmoid cross entropy of [batch, classes] logits and 0/1 labels."""
  return tf.losses.sigmoid_cross_entropy(
    multi_class_labels, logits, weights, label_smoothing, scope
  )


def softmax_cross_entropy(
  logits, onehot_labels, weights=1.0, label_smoothing=0, scope=None
):
  """Mean softmax cross entropy of [batch, classes] logits, one-hot labels.

  `weights` is a scalar or one per example [batch].
  """
  return tf.losses.softmax_cross_entropy(
    onehot_labels, logits, weights, label_smoothing, scope
  )


def sparse_softmax_cross_entropy(logits, labels, weights=1.0, scope=None):
  """Mean softmax cross entropy of logits and integer labels [batch]."""
  labels = tf.convert_to_tensor(labels)
  if labels.shape.ndims == 2 and labels.shape[-1] == 1:
    labels = tf.squeeze(labels, [1])
  return tf.losses.sparse_softmax_cross_entropy(labels, logits, weights, scope)
