"""Builds the MNIST network: TF1's "Mechanics 101" builders on tf.compat.v1.

The graph is built in four steps, each a plain function that takes tensors
and returns tensors:

1. `inference()`  - the forward pass, as far as needed to make predictions.
2. `loss()`       - adds the ops that compute the loss.
3. `training()`   - adds the ops that compute and apply gradients.
4. `evaluation()` - counts correct predictions.

`inference()` is a `layers.Sequential` of `layers.Dense`: variables are
made with `tf.get_variable` inside the variable scopes `hidden1`, `hidden2`
and `softmax_linear`, so calling `inference()` again in a scope with
`reuse=True` shares them; with `moving_average_getter(ema)` as custom
getter the second tower reads the moving averages instead.

Example:
    images, labels = placeholder_inputs()
    logits = inference(images, 128, 32)
    total_loss = loss(logits, labels)
    train_op = training(total_loss, 0.01)
    num_correct = evaluation(logits, labels)
"""

import math

import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet.contract import IMAGE_PIXELS
from graphnet.contract import IMAGE_SIZE
from graphnet.contract import NUM_CLASSES
from graphnet.nn import layers
from graphnet.nn.hparams import OPTIMIZERS
from graphnet.nn.hparams import check_hidden_units
from graphnet.nn.training_tools import l2_regularizer
from graphnet.nn.training_tools import make_optimizer
from graphnet.nn.training_tools import moving_average_getter

__all__ = [
  'NUM_CLASSES',
  'IMAGE_SIZE',
  'IMAGE_PIXELS',
  'OPTIMIZERS',
  'placeholder_inputs',
  'inference',
  'loss',
  'training',
  'evaluation',
  'moving_average_getter',
  'make_optimizer',
  'l2_regularizer',
  'check_hidden_units',
]

# The cross-entropies loss() registered in tf.GraphKeys.LOSSES.
_CROSS_ENTROPY_KEY = 'graphnet_cross_entropy'


def placeholder_inputs(batch_size=None, feature_shape=(IMAGE_PIXELS,)):
  """Makes the input placeholders `images` and `labels`.

  Args:
    batch_size: static batch size, or None for any batch size.
    feature_shape: shape of one example (a data set's `feature_shape`);
      MNIST's 784 pixels by default.

  Returns:
    images: float32 placeholder `[batch_size, *feature_shape]` named
      `images`.
    labels: int32 placeholder `[batch_size]` named `labels`.
  """
  images = tf.placeholder(
    tf.float32, [batch_size, *feature_shape], contract.IMAGES
  )
  labels = tf.placeholder(tf.int32, [batch_size], contract.LABELS)
  return images, labels


def inference(
  images,
  hidden1_units,
  hidden2_units,
  regularizer=None,
  num_classes=NUM_CLASSES,
):
  """Builds the model up to the logits.

  Creates, in the current variable scope, `hidden1/{weights,biases}` (when
  `hidden1_units` > 0), `hidden2/{weights,biases}` (when `hidden2_units` > 0)
  and `softmax_linear/{weights,biases}`. In a scope with `reuse=True` it
  creates no variable and shares the existing ones.

  Args:
    images: float32 tensor `[batch, 784]` (MNIST), or `[batch, features]`
      of any known width, or `[batch, d1, d2, ...]` (flattened first).
    hidden1_units: units of the first ReLU layer; 0 gives softmax regression.
    hidden2_units: units of the second ReLU layer; 0 gives one hidden layer.
    regularizer: optional function weight -> scalar penalty (for example
      `l2_regularizer(1e-4)`); each penalty is added to the collection
      `'losses'`.
    num_classes: width of the logits.

  Returns:
    float32 logits `[batch, num_classes]`.

  Raises:
    ConfigError: for negative unit counts, or hidden2 without hidden1.
  """
  check_hidden_units(hidden1_units, hidden2_units, 'inference')
  stack = [
    layers.Dense(units, tf.nn.relu, regularizer, name=name)
    for name, units in (('hidden1', hidden1_units), ('hidden2', hidden2_units))
    if units
  ]
  stack.append(layers.Dense(num_classes, None, regularizer, 'softmax_linear'))
  return layers.Sequential(stack)(_flat(images))


def _flat(images):
  """`images` as `[batch, width]`; MNIST's 784 pixels when not known."""
  dims = images.shape.as_list()[1:] if images.shape.ndims else []
  if not dims or None in dims:
    return tf.reshape(images, [-1, IMAGE_PIXELS])  # [batch, 784]
  if len(dims) > 1:
    return tf.reshape(images, [-1, math.prod(dims)])  # [batch, width]
  return images


def loss(logits, labels):
  """Mean cross-entropy plus any regularisation penalties.

  Args:
    logits: float32 tensor `[batch, 10]`.
    labels: integer tensor `[batch]` of class ids in [0, 10).

  Returns:
    float32 scalar: `xentropy_mean`, plus the penalties in the `'losses'`
    collection (`tf.GraphKeys.LOSSES`) when there are any (then named
    `total_loss`).

  Side effect: `xentropy_mean` is added to `tf.GraphKeys.LOSSES` as TF1's
  `tf.losses` functions do, so `tf.losses.get_total_loss()` gives the same
  value as the returned tensor (the penalties are already in that
  collection, so none is counted twice).
  """
  labels = tf.cast(labels, tf.int64)
  cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
    labels=labels, logits=logits, name='xentropy'
  )
  xentropy_mean = tf.reduce_mean(cross_entropy, name='xentropy_mean')
  # A cross-entropy an earlier loss() call registered is not a penalty.
  earlier = {t.name for t in tf.get_collection(_CROSS_ENTROPY_KEY)}
  penalties = [
    t for t in tf.get_collection(tf.GraphKeys.LOSSES) if t.name not in earlier
  ]
  tf.losses.add_loss(xentropy_mean)
  tf.add_to_collection(_CROSS_ENTROPY_KEY, xentropy_mean)
  if not penalties:
    return xentropy_mean
  return tf.add_n([xentropy_mean] + penalties, name='total_loss')


def _scalar_summary(tag, value):
  """A scalar summary whose tag is exactly `tag`.

  `tf.summary.scalar` derives the tag from a uniquified op name, so it would
  write `learning_rate_1` when an op named `learning_rate` exists.
  """
  summary = tf.raw_ops.ScalarSummary(
    tags=tag, values=tf.cast(value, tf.float32), name=f'{tag}_summary'
  )
  tf.add_to_collection(tf.GraphKeys.SUMMARIES, summary)
  return summary


def training(
  loss_tensor,
  learning_rate,
  optimizer='sgd',
  momentum=0.9,
  moving_average=None,
  global_step=None,
):
  """Adds the ops that train the model one step.

  Computes `tf.gradients` of `loss_tensor` over the trainable variables,
  applies them with `apply_gradients(..., name='train_step')` (which
  increments the global step), and groups that op with the moving-average
  update (when `moving_average` is given) and every op in `UPDATE_OPS`.
  Adds scalar summaries `loss` and `learning_rate`.

  Args:
    loss_tensor: float32 scalar from `loss()`.
    learning_rate: python float, scalar tensor (an in-graph schedule) or a
      float32 placeholder fed by `hooks.LearningRateSetterHook`.
    optimizer: one of `OPTIMIZERS`, or a `tf.train.Optimizer` (e.g. from
      `make_optimizer`) whose slots a second call then reuses.
    momentum: momentum of the 'momentum' and 'rmsprop' optimizers.
    moving_average: optional `tf.train.ExponentialMovingAverage`; its shadow
      variables (of all trainable variables) are created here.
    global_step: the global step variable; defaults to the graph's, created
      when missing.

  Returns:
    the train op, named `train_op`.
  """
  if global_step is None:
    global_step = tf.train.get_or_create_global_step()
  _scalar_summary('loss', loss_tensor)
  _scalar_summary('learning_rate', learning_rate)
  if isinstance(optimizer, tf.train.Optimizer):
    opt = optimizer
  else:
    opt = make_optimizer(optimizer, learning_rate, momentum)
  variables = tf.trainable_variables()
  grads = tf.gradients(loss_tensor, variables)
  apply_op = opt.apply_gradients(
    list(zip(grads, variables, strict=True)),
    global_step=global_step,
    name='train_step',
  )
  ops = [apply_op]
  if moving_average is not None:
    # The average must see this step's weights, not the previous ones.
    with tf.control_dependencies([apply_op]):
      ops.append(moving_average.apply(variables))
  ops.extend(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
  return tf.group(*ops, name='train_op')


def evaluation(logits, labels):
  """Counts the examples whose top-1 prediction is the label.

  Args:
    logits: float32 tensor `[batch, 10]`.
    labels: integer tensor `[batch]` of class ids in [0, 10).

  Returns:
    int32 scalar: number of correct predictions in the batch.
  """
  correct = tf.nn.in_top_k(logits, tf.cast(labels, tf.int32), 1)
  return tf.reduce_sum(tf.cast(correct, tf.int32), name='num_correct')
