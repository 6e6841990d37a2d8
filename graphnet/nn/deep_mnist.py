"""Builds the convolutional MNIST network of TF's "Deep MNIST" tutorial.

Two 5x5 convolutions with ReLU and 2x2 max-pooling (32 and 64 channels), a
fully connected layer of 1024 ReLU units with dropout, and a linear layer
to the 10 logits: about 3.3 million weights, ~99.2% test precision.

Like `mnist.inference()`, `inference_conv()` is a plain graph function
built from `graphnet.layers`: variables are made with `tf.get_variable` in
the variable scopes `conv1`, `conv2`, `fc1` and `fc2` (named `weights` and
`biases`), so a second call under `reuse=True` shares them and
`mnist.moving_average_getter(ema)` can swap in their moving averages.
Optional batch normalisation adds
`batch_norm/{beta,gamma,moving_mean,moving_variance}` to `conv1`, `conv2`
and `fc1` (replacing their `biases`, which `beta` makes redundant).

`model_fn` is the network `models.py` registers as `conv`: the training
tower drops units with the configured keep rate, the evaluation tower reads
a `keep_prob` placeholder that defaults to 1.0, so the restored graph's
`predictions:0` needs only `images:0`.

Example:
    images, labels = mnist.placeholder_inputs()
    keep_prob = keep_prob_input(0.5, name='train_keep_prob')
    logits = inference_conv(images, keep_prob, is_training=True)
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
      eval_logits = inference_conv(images, keep_prob_input())
"""

import math

import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet import errors
from graphnet.nn import layers
from graphnet.nn.hparams import check_keep_prob

__all__ = [
  'CONV1_FILTERS',
  'CONV2_FILTERS',
  'FC1_UNITS',
  'BATCH_NORM_DECAY',
  'CONV1_WEIGHTS_SHAPE',
  'check_keep_prob',
  'keep_prob_input',
  'inference_conv',
  'model_fn',
]

CONV1_FILTERS = 32
CONV2_FILTERS = 64
FC1_UNITS = 1024
# Decay of the batch-norm moving statistics per training step.
BATCH_NORM_DECAY = 0.99
_BATCH_NORM_EPSILON = 1e-3
_KERNEL = 5
# conv1/weights: 5x5 kernels over the one grayscale channel.
CONV1_WEIGHTS_SHAPE = [_KERNEL, _KERNEL, 1, CONV1_FILTERS]


def keep_prob_input(default=1.0, name=contract.KEEP_PROB):
  """A scalar float32 `placeholder_with_default` for the dropout keep rate.

  Created at the root of the graph's name scopes (whatever scope the caller
  is in), so the default name gives the tensor `keep_prob:0`.

  Args:
    default: python float in (0, 1], used when nothing is fed.
    name: the op's name.

  Returns:
    float32 scalar tensor.

  Raises:
    ConfigError: `default` is not in (0, 1].
  """
  check_keep_prob(default, 'keep_prob_input', 'default')
  # None resets to the root scope: restored graphs find it by a short name.
  with tf.get_default_graph().name_scope(None):
    return tf.placeholder_with_default(
      tf.constant(default, tf.float32), [], name=name
    )


def _as_image_batch(images):
  """`images` as `[batch, height, width, channels]`.

  Rank 2 `[batch, side * side]` is a square one-channel image (MNIST's
  784 = 28 * 28); rank 3 `[batch, h, w]` gets one channel; rank 4 stays.

  Raises:
    ConfigError: the shape fits none of these.
  """
  dims = images.shape.as_list()[1:] if images.shape.ndims else []
  if len(dims) == 3 and None not in dims:
    return images
  if len(dims) == 2 and None not in dims:
    return tf.expand_dims(images, -1)  # [batch, h, w, 1]
  width = dims[0] if len(dims) == 1 and dims[0] else contract.IMAGE_PIXELS
  side = math.isqrt(width)
  if len(dims) > 1 or side * side != width:
    raise errors.ConfigError(
      f'inference_conv: expected images [batch, side * side], [batch, h, '
      f'w] or [batch, h, w, channels], got shape {images.shape}; the conv '
      'network needs image-shaped inputs.',
      field='model',
    )
  return tf.reshape(images, [-1, side, side, 1])


def inference_conv(
  images,
  keep_prob,
  batch_norm=False,
  is_training=False,
  regularizer=None,
  num_classes=contract.NUM_CLASSES,
):
  """Builds the convolutional network up to the logits.

  Creates, in the current variable scope, `conv1/weights` `[5,5,1,32]`,
  `conv2/weights` `[5,5,32,64]`, `fc1/weights` `[3136,1024]`, `fc2/weights`
  `[1024,10]` and `fc2/biases`; plus `conv1/biases`, `conv2/biases`,
  `fc1/biases` without batch norm, or `{conv1,conv2,fc1}/batch_norm/`
  `{beta,gamma,moving_mean,moving_variance}` with it. Under `reuse=True` it
  creates no variable.

  Args:
    images: float32 tensor `[batch, 784]` (MNIST; any square image
      flattened), `[batch, h, w]` or `[batch, h, w, channels]`.
    keep_prob: float32 scalar (tensor or python float), the probability of
      keeping each fc1 unit; 1.0 disables dropout (and its randomness).
    batch_norm: normalise the conv1, conv2 and fc1 pre-activations.
    is_training: python bool; with `batch_norm`, True normalises with the
      batch statistics and adds the moving-statistics updates to
      `tf.GraphKeys.UPDATE_OPS`, False uses the moving statistics and adds
      nothing. Without batch norm it has no effect.
    regularizer: optional function weight -> scalar penalty; each penalty
      (of the four `weights`) is added to the collection `'losses'`.
    num_classes: width of the logits.

  Returns:
    float32 logits `[batch, num_classes]`.

  Raises:
    ConfigError: `images` are not image-shaped.
  """
  # A small positive bias keeps ReLUs alive at the start; He init (gain
  # 2) keeps the scale of activations through a ReLU.
  relu_init = dict(
    activation=tf.nn.relu,
    regularizer=regularizer,
    weights_initializer=layers.fan_in_truncated_normal(2.0),
    bias_initializer=tf.constant_initializer(0.1),
  )

  def norm():
    if not batch_norm:
      return None
    return layers.BatchNorm(BATCH_NORM_DECAY, _BATCH_NORM_EPSILON)

  features = layers.Sequential(
    [
      layers.Conv2D(
        CONV1_FILTERS, _KERNEL, name='conv1', normalizer=norm(), **relu_init
      ),
      layers.MaxPool2D(2),  # [batch, 14, 14, 32] for MNIST
      layers.Conv2D(
        CONV2_FILTERS, _KERNEL, name='conv2', normalizer=norm(), **relu_init
      ),
      layers.MaxPool2D(2),  # [batch, 7, 7, 64]
      layers.Flatten(),  # [batch, 3136]
      layers.Dense(FC1_UNITS, name='fc1', normalizer=norm(), **relu_init),
    ]
  )
  # MNIST: [batch, 784] -> [batch, 28, 28, 1]
  net = features(_as_image_batch(images), is_training)  # [batch, 1024]
  net = tf.nn.dropout(net, rate=1.0 - keep_prob)
  # No ReLU follows: unit gain.
  logits = layers.Dense(num_classes, regularizer=regularizer, name='fc2')
  return logits(net)  # [batch, num_classes]


def model_fn(images, keep_prob, is_training=False, **network):
  """The network `models.py` registers as `conv`, one tower of it.

  The training tower (`is_training`) drops fc1 units with `keep_prob`, fed
  through the placeholder `train_keep_prob`, and batch-normalises with the
  batch statistics. The evaluation tower reads the `keep_prob` placeholder
  (default 1.0: no dropout unless fed) and the moving statistics.

  Args:
    images: float32 tensor `[batch, 784]`.
    keep_prob: python float in (0, 1], the training tower's keep rate.
    is_training: python bool, which tower this is.
    **network: `batch_norm`, `regularizer` (give it to one tower only) and
      `num_classes`, as `inference_conv` takes them.

  Returns:
    float32 logits `[batch, num_classes]`.
  """
  if is_training:
    rate = keep_prob_input(keep_prob, name='train_keep_prob')
  else:
    rate = keep_prob_input(1.0, name=contract.KEEP_PROB)
  return inference_conv(images, rate, is_training=is_training, **network)
