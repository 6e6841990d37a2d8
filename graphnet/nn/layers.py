"""Layer objects for graph-mode (tf.compat.v1) models.

A layer is an object called on a tensor: `layer(inputs, is_training=False)`
returns the output tensor. `Sequential` chains layers, so a model is one
callable `model(images, is_training)` (and `model(images)` builds the
evaluation form). Every layer makes its variables with `tf.get_variable` in
its own `tf.variable_scope(name)`: `weights` and `biases`, the naming of
`mnist.inference()` and `deep_mnist.inference_conv()`; `BatchNorm` makes
`beta`, `gamma`, `moving_mean` and `moving_variance` in scope `batch_norm`,
inside the layer's scope when it is the `normalizer` of a `Dense` or
`Conv2D` (`fc1/batch_norm/beta`). So:

- calling the model again under `tf.variable_scope(tf.get_variable_scope(),
  reuse=True)` shares its variables (an evaluation tower), and with
  `custom_getter=mnist.moving_average_getter(ema)` reads their averages;
- calling it again in a new `tf.variable_scope('copy')` makes a copy;
- calling it again in the same scope without reuse raises `ConfigError`
  (which says the above) instead of TF's "Variable ... already exists".

Weight penalties (`regularizer`) are added to the collection `'losses'`
(which `mnist.loss()` adds to the loss) by every call that does not reuse
the weights: the one that creates them, or a step inside an in-graph
training loop (whose custom getter returns them). `.variables` /
`.trainable_variables` list a layer's variables once it has been called.

`Sequential` without a name opens no variable scope, so the tutorial
network below has exactly the variables (and checkpoints) of
`mnist.inference(images, 128, 32)`.

Example:
    mlp = Sequential([
        Dense(128, tf.nn.relu, name='hidden1'),
        Dense(32, tf.nn.relu, name='hidden2'),
        Dense(10, name='softmax_linear'),
    ])
    images, labels = mnist.placeholder_inputs()
    logits = mlp(images, is_training=True)           # [batch, 10]
    train_op = mnist.training(mnist.loss(logits, labels), 0.01)
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
      eval_logits = mlp(images)                       # same variables
    print([v.op.name for v in mlp.variables])         # hidden1/weights, ...
"""

import math

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.nn import layer_base
from graphnet.nn.layer_base import Layer
from graphnet.nn.layer_base import fan_in_truncated_normal
from graphnet.nn.normalization import BatchNorm
from graphnet.nn.normalization import Dropout
from graphnet.nn.sequential import Sequential

__all__ = [
  'fan_in_truncated_normal',
  'Layer',
  'Dense',
  'Conv2D',
  'MaxPool2D',
  'Flatten',
  'Reshape',
  'Dropout',
  'BatchNorm',
  'Sequential',
]


class _Projection(Layer):
  """Shared by Dense and Conv2D: weights, biases or normalizer, activation.

  All in the layer's variable scope, in that order.
  """

  _HAS_VARIABLES = True

  def __init__(
    self,
    name,
    activation,
    regularizer,
    *,
    weights_initializer=None,
    bias_initializer=None,
    use_bias=None,
    normalizer=None,
  ):
    """Checks and stores what Dense and Conv2D share.

    Args:
      name: the variable scope; default the layer's `_DEFAULT_NAME`.
      activation: optional function tensor -> tensor, e.g. `tf.nn.relu`.
      regularizer: optional function weights -> scalar penalty (e.g.
        `mnist.l2_regularizer(1e-4)`), added to the collection 'losses'.
      weights_initializer: default `fan_in_truncated_normal(1.0)`.
      bias_initializer: default zeros.
      use_bias: make `biases`; default True without a normalizer, False with
        one.
      normalizer: optional layer applied to the pre-activations in this
        layer's scope, e.g. `BatchNorm()`.

    Raises:
      ConfigError: a function argument is not callable, or `name` is not a
        valid scope name.
    """
    super().__init__(name)
    label = self._label()
    self._activation = layer_base.optional_callable(
      label, 'activation', activation
    )
    self._regularizer = layer_base.optional_callable(
      label, 'regularizer', regularizer
    )
    self._weights_initializer = weights_initializer or fan_in_truncated_normal()
    self._bias_initializer = bias_initializer or tf.zeros_initializer()
    self._normalizer = layer_base.optional_layer(label, normalizer)
    # A normalizer's beta does the biases' job.
    self._use_bias = normalizer is None if use_bias is None else bool(use_bias)

  def _weights(self, shape, dtype):
    weights = tf.get_variable(
      'weights', shape, dtype=dtype, initializer=self._weights_initializer
    )
    self._add_penalty(weights, self._regularizer)
    return weights

  def _biases(self, units, dtype):
    return tf.get_variable(
      'biases', [units], dtype=dtype, initializer=self._bias_initializer
    )

  def _finish(self, outputs, is_training, biased=False):
    if self._use_bias and not biased:
      outputs = tf.nn.bias_add(
        outputs, self._biases(outputs.shape[-1], outputs.dtype)
      )
    if self._normalizer is not None:
      outputs = self._normalizer(outputs, is_training)
    if self._activation is not None:
      outputs = self._activation(outputs)
    return outputs


class Dense(_Projection):
  """A fully connected layer: `activation(inputs @ weights + biases)`.

  Variables, in its scope: `weights` `[fan_in, units]` and `biases`
  `[units]` (not made when `use_bias` is False), plus those of `normalizer`
  (a `BatchNorm` makes `batch_norm/{beta,gamma,moving_mean,
  moving_variance}`), which is applied before `activation`.
  """

  _DEFAULT_NAME = 'dense'
  _RANK_HINT = ' Put a Flatten() layer before it.'

  def __init__(
    self, units, activation=None, regularizer=None, name=None, **options
  ):
    """Makes the layer; variables are made by its first call.

    Args:
      units: python int > 0, the output width.
      activation: optional function tensor -> tensor, e.g. `tf.nn.relu`.
      regularizer: optional function weights -> scalar penalty (e.g.
        `mnist.l2_regularizer(1e-4)`), added to the collection 'losses'.
      name: the variable scope; default 'dense'.
      **options: `weights_initializer` (default
        `fan_in_truncated_normal(1.0)`), `bias_initializer` (default
        zeros), `use_bias` (default True without a normalizer) and
        `normalizer` (a layer applied to the pre-activations, e.g.
        `BatchNorm()`); see `_Projection`.

    Raises:
      ConfigError: `units` is not a positive int, a function argument is
        not callable, or `name` is not a valid scope name.
    """
    super().__init__(name, activation, regularizer, **options)
    self._units = layer_base.positive_int(self._label(), 'units', units)

  @property
  def units(self):
    """The output width."""
    return self._units

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, rank=2, sized=True)
    weights = self._weights([int(inputs.shape[-1]), self._units], inputs.dtype)
    if not self._use_bias:
      return self._finish(tf.matmul(inputs, weights), is_training)
    # xw_plus_b names its ops as TF1's tutorial graph did (hidden1/xw_plus_b).
    biases = self._biases(self._units, inputs.dtype)
    outputs = tf.nn.xw_plus_b(inputs, weights, biases)  # [batch, units]
    return self._finish(outputs, is_training, biased=True)


class Conv2D(_Projection):
  """A 2-D convolution over `[batch, height, width, channels]` inputs.

  Variables, in its scope: `weights` `[kh, kw, channels, filters]` and
  `biases` `[filters]` (not made when `use_bias` is False), plus those of
  `normalizer`, applied before `activation`.
  """

  _DEFAULT_NAME = 'conv2d'
  _RANK_HINT = (
    ' Inputs are [batch, height, width, channels]; put a '
    'Reshape([height, width, channels]) layer before it.'
  )

  def __init__(
    self,
    filters,
    kernel_size,
    strides=1,
    padding='SAME',
    activation=None,
    regularizer=None,
    name=None,
    **options,
  ):
    """Makes the layer; variables are made by its first call.

    Args:
      filters: python int > 0, the output channels.
      kernel_size: int or (height, width) of the kernel.
      strides: int or (height, width) step.
      padding: 'SAME' (output size ceil(size / stride)) or 'VALID'.
      activation: optional function tensor -> tensor, e.g. `tf.nn.relu`.
      regularizer: optional function weights -> scalar penalty, added to
        the collection 'losses'.
      name: the variable scope; default 'conv2d'.
      **options: `weights_initializer`, `bias_initializer`, `use_bias`,
        `normalizer`, as `Dense` takes them (see `_Projection`).

    Raises:
      ConfigError: for a bad size, padding, function or name.
    """
    super().__init__(name, activation, regularizer, **options)
    label = self._label()
    self._filters = layer_base.positive_int(label, 'filters', filters)
    self._kernel_size = layer_base.pair(label, 'kernel_size', kernel_size)
    self._strides = layer_base.pair(label, 'strides', strides)
    self._padding = layer_base.padding_of(label, padding)

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, rank=4, sized=True)
    channels = int(inputs.shape[-1])
    kernel = self._weights(
      [*self._kernel_size, channels, self._filters], inputs.dtype
    )
    outputs = tf.nn.conv2d(
      inputs, kernel, [1, *self._strides, 1], self._padding
    )  # [batch, height', width', filters]
    return self._finish(outputs, is_training)


class MaxPool2D(Layer):
  """Max-pooling over `[batch, height, width, channels]`; no variables."""

  _DEFAULT_NAME = 'max_pool2d'
  _RANK_HINT = ' Inputs are [batch, height, width, channels].'

  def __init__(self, pool_size=2, strides=None, padding='SAME', name=None):
    """Makes the layer.

    Args:
      pool_size: int or (height, width) of the window.
      strides: int or (height, width) step; default `pool_size`.
      padding: 'SAME' (output size ceil(size / stride)) or 'VALID'.
      name: the name scope; default 'max_pool2d'.

    Raises:
      ConfigError: for a bad size, padding or name.
    """
    super().__init__(name)
    label = self._label()
    self._pool_size = layer_base.pair(label, 'pool_size', pool_size)
    self._strides = (
      self._pool_size
      if strides is None
      else layer_base.pair(label, 'strides', strides)
    )
    self._padding = layer_base.padding_of(label, padding)

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, rank=4)
    return tf.nn.max_pool2d(
      inputs, self._pool_size, self._strides, self._padding
    )  # [batch, height', width', channels]


class Flatten(Layer):
  """Reshapes `[batch, d1, d2, ...]` to `[batch, d1 * d2 * ...]`."""

  _DEFAULT_NAME = 'flatten'

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, min_rank=2)
    dims = inputs.shape.as_list()[1:]
    if None in dims:
      # Unknown inner sizes: the width is only known when the graph runs.
      return tf.reshape(inputs, [tf.shape(inputs)[0], -1])
    return tf.reshape(inputs, [-1, math.prod(dims)])  # [batch, features]


class Reshape(Layer):
  """Reshapes each example: `[batch, ...]` to `[batch, *target_shape]`."""

  _DEFAULT_NAME = 'reshape'

  def __init__(self, target_shape, name=None):
    """Makes the layer.

    Args:
      target_shape: sequence of positive ints, the shape of one example,
        e.g. `[28, 28, 1]` for MNIST's 784 pixels.
      name: the name scope; default 'reshape'.

    Raises:
      ConfigError: `target_shape` holds a value that is not a positive int.
    """
    super().__init__(name)
    self._target_shape = tuple(
      layer_base.positive_int(self._label(), 'target_shape', d)
      for d in target_shape
    )

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, min_rank=2)
    dims = inputs.shape.as_list()[1:]
    if None not in dims and math.prod(dims) != math.prod(self._target_shape):
      raise errors.ConfigError(
        f'{self._label()}: cannot reshape examples of shape {dims} '
        f'({math.prod(dims)} values) to {list(self._target_shape)} '
        f'({math.prod(self._target_shape)} values).'
      )
    return tf.reshape(inputs, [-1, *self._target_shape])
