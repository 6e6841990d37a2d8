"""`slim.learning`'s train op: `create_train_op` and gradient helpers.

`create_train_op(total_loss, optimizer)` returns a tensor that, when run,
applies one gradient step (after the `UPDATE_OPS`, e.g. batch norm's
moving averages), increments the global step and evaluates to the loss;
`clip_gradient_norms`, `multiply_gradients` and `add_gradients_summaries`
transform or summarize (gradient, variable) pairs. Users reach them as
`slim.learning.<name>`, as in TF 1.15.

Example:
    train_op = slim.learning.create_train_op(
        total_loss, tf.train.GradientDescentOptimizer(0.1))
"""

import tensorflow.compat.v1 as tf

__all__ = [
  'add_gradients_summaries',
  'clip_gradient_norms',
  'create_train_op',
  'multiply_gradients',
]

# A default distinct from None (None: the step is not incremented).
_USE_GLOBAL_STEP = 0


def clip_gradient_norms(gradients_to_variables, max_norm):
  """Clips each gradient to norm `max_norm` (sparse ones kept sparse)."""
  clipped = []
  for grad, var in gradients_to_variables:
    if grad is not None:
      if isinstance(grad, tf.IndexedSlices):
        values = tf.clip_by_norm(grad.values, max_norm)
        grad = tf.IndexedSlices(values, grad.indices, grad.dense_shape)
      else:
        grad = tf.clip_by_norm(grad, max_norm)
    clipped.append((grad, var))
  return clipped


def multiply_gradients(grads_and_vars, gradient_multipliers):
  """Scales the gradients of the variables (or names) in the dict.

  Raises:
    ValueError: `grads_and_vars` is not a list or the dict is empty.
  """
  if not isinstance(grads_and_vars, list):
    raise ValueError(
      'multiply_gradients: grads_and_vars must be a list of (gradient, '
      f'variable) pairs, got {type(grads_and_vars).__name__}.'
    )
  if not gradient_multipliers:
    raise ValueError('multiply_gradients: gradient_multipliers is empty.')
  multiplied = []
  for grad, var in grads_and_vars:
    key = var if var in gradient_multipliers else var.op.name
    if grad is not None and key in gradient_multipliers:
      multiplier = tf.constant(gradient_multipliers[key], dtype=grad.dtype)
      if isinstance(grad, tf.IndexedSlices):
        grad = tf.IndexedSlices(
          grad.values * multiplier, grad.indices, grad.dense_shape
        )
      else:
        grad *= multiplier
    multiplied.append((grad, var))
  return multiplied


def add_gradients_summaries(grads_and_vars):
  """Histogram and norm summaries of each gradient; returns them."""
  summaries = []
  for grad, var in grads_and_vars:
    if grad is None:
      continue
    values = grad.values if isinstance(grad, tf.IndexedSlices) else grad
    summaries.append(tf.summary.histogram(var.op.name + '/gradient', values))
    summaries.append(
      tf.summary.scalar(
        var.op.name + '/gradient_norm', tf.global_norm([values])
      )
    )
  return summaries


def create_train_op(
  total_loss,
  optimizer,
  global_step=_USE_GLOBAL_STEP,
  update_ops=None,
  variables_to_train=None,
  clip_gradient_norm=0,
  summarize_gradients=False,
  gate_gradients=tf.train.Optimizer.GATE_OP,
  aggregation_method=None,
  colocate_gradients_with_ops=False,
  gradient_multipliers=None,
  check_numerics=True,
):
  """A tensor that takes one training step and evaluates to the loss.

  Args:
    total_loss: the scalar loss to minimize.
    optimizer: a `tf.train.Optimizer`.
    global_step: incremented by each step (default: the graph's, created
      if missing; None: not incremented).
    update_ops: ops run before each step (default: `UPDATE_OPS`).
    variables_to_train: default `TRAINABLE_VARIABLES`.
    clip_gradient_norm: clip the gradients' global norm to it if > 0.
    summarize_gradients: add histogram summaries of the gradients.
    gate_gradients: as for `optimizer.compute_gradients`.
    aggregation_method: as for `optimizer.compute_gradients`.
    colocate_gradients_with_ops: as for `optimizer.compute_gradients`.
    gradient_multipliers: {variable or its name: scale of its gradient}.
    check_numerics: fail the step when the loss is NaN or infinite.

  Returns:
    the train op: a tensor equal to `total_loss`, also added to the
    `TRAIN_OP` collection.
  """
  if global_step is _USE_GLOBAL_STEP:
    global_step = tf.train.get_or_create_global_step()
  global_update_ops = set(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
  if update_ops is None:
    update_ops = global_update_ops
  else:
    update_ops = set(update_ops)
  if not global_update_ops.issubset(update_ops):
    tf.logging.warning(
      'update_ops in create_train_op does not contain all the update_ops in '
      'GraphKeys.UPDATE_OPS'
    )
  if update_ops:
    with tf.control_dependencies(sorted(update_ops, key=lambda op: op.name)):
      barrier = tf.no_op(name='update_barrier')
    with tf.control_dependencies([barrier]):
      total_loss = tf.identity(total_loss)
  if variables_to_train is None:
    variables_to_train = tf.trainable_variables()
  else:
    trainable = set(tf.trainable_variables())
    for var in variables_to_train:
      if var not in trainable:
        raise ValueError(
          f'create_train_op: variables_to_train holds {var.op.name}, which '
          'is not trainable.'
        )
  grads = optimizer.compute_gradients(
    total_loss,
    variables_to_train,
    gate_gradients=gate_gradients,
    aggregation_method=aggregation_method,
    colocate_gradients_with_ops=colocate_gradients_with_ops,
  )
  if gradient_multipliers:
    with tf.name_scope('multiply_grads'):
      grads = multiply_gradients(grads, gradient_multipliers)
  if clip_gradient_norm > 0:
    with tf.name_scope('clip_grads'):
      gradients, variables = zip(*grads, strict=True)
      gradients, _ = tf.clip_by_global_norm(list(gradients), clip_gradient_norm)
      grads = list(zip(gradients, variables, strict=True))
  if summarize_gradients:
    with tf.name_scope('summarize_grads'):
      add_gradients_summaries(grads)
  grad_updates = optimizer.apply_gradients(grads, global_step=global_step)
  with tf.name_scope('train_op'):
    if check_numerics:
      total_loss = tf.check_numerics(total_loss, 'LossTensor is inf or nan')
    with tf.control_dependencies([grad_updates]):
      train_op = tf.identity(total_loss)
  train_ops = tf.get_collection_ref(tf.GraphKeys.TRAIN_OP)
  if train_op not in train_ops:
    train_ops.append(train_op)
  return train_op
