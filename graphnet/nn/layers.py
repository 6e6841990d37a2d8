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

import contextlib
import math

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.nn import layer_base
from graphnet.nn.layer_base import Layer
from graphnet.nn.layer_base import fan_in_truncated_normal

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
    weights_initializer,
    bias_initializer,
    use_bias,
    normalizer,
  ):
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
    self,
    units,
    activation=None,
    regularizer=None,
    name=None,
    weights_initializer=None,
    bias_initializer=None,
    use_bias=None,
    normalizer=None,
  ):
    """Makes the layer; variables are made by its first call.

    Args:
      units: python int > 0, the output width.
      activation: optional function tensor -> tensor, e.g. `tf.nn.relu`.
      regularizer: optional function weights -> scalar penalty (e.g.
        `mnist.l2_regularizer(1e-4)`), added to the collection 'losses'.
      name: the variable scope; default 'dense'.
      weights_initializer: default `fan_in_truncated_normal(1.0)`.
      bias_initializer: default zeros.
      use_bias: make `biases`; default True without a normalizer, False with
        one.
      normalizer: optional layer applied to the pre-activations in this
        layer's scope, e.g. `BatchNorm()`.

    Raises:
      ConfigError: `units` is not a positive int, a function argument is
        not callable, or `name` is not a valid scope name.
    """
    super().__init__(
      name,
      activation,
      regularizer,
      weights_initializer,
      bias_initializer,
      use_bias,
      normalizer,
    )
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
    weights_initializer=None,
    bias_initializer=None,
    use_bias=None,
    normalizer=None,
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
      weights_initializer: default `fan_in_truncated_normal(1.0)`.
      bias_initializer: default zeros.
      use_bias: make `biases`; default True without a normalizer, False with
        one.
      normalizer: optional layer applied to the pre-activations in this
        layer's scope, e.g. `BatchNorm()`.

    Raises:
      ConfigError: for a bad size, padding, function or name.
    """
    super().__init__(
      name,
      activation,
      regularizer,
      weights_initializer,
      bias_initializer,
      use_bias,
      normalizer,
    )
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


class Dropout(Layer):
  """Keeps each unit with probability `keep_prob` in training.

  In training it makes a scalar `placeholder_with_default` named
  `keep_prob` in its name scope (e.g. `dropout/keep_prob:0`), holding
  `keep_prob` unless fed, so nothing needs to be fed; kept units are scaled
  by `1 / keep_prob`. In evaluation it returns its inputs unchanged.
  """

  _DEFAULT_NAME = 'dropout'

  def __init__(self, keep_prob, name=None):
    """Makes the layer.

    Args:
      keep_prob: python float in (0, 1].
      name: the name scope; default 'dropout'.

    Raises:
      ConfigError: `keep_prob` is not in (0, 1].
    """
    super().__init__(name)
    if isinstance(keep_prob, bool) or not isinstance(
      keep_prob, (int, float, np.floating)
    ):
      raise errors.ConfigError(
        f'{self._label()}: keep_prob must be a python float in (0, 1], got '
        f'{keep_prob!r}.'
      )
    if not 0.0 < keep_prob <= 1.0:
      raise errors.ConfigError(
        f'{self._label()}: keep_prob must be in (0, 1], got {keep_prob}.'
      )
    self._keep_prob = float(keep_prob)

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, min_rank=1)
    if not is_training:
      return inputs
    keep_prob = tf.placeholder_with_default(
      tf.constant(self._keep_prob, inputs.dtype), [], name='keep_prob'
    )
    return tf.nn.dropout(inputs, rate=1.0 - keep_prob)


class BatchNorm(Layer):
  """Batch normalisation over all axes but the last (the channels).

  Variables, in its scope (default `batch_norm`): `beta` (zeros) and
  `gamma` (ones), trainable; `moving_mean` (zeros) and `moving_variance`
  (ones), not trainable, so they get no gradient and no weight moving
  average. In training it normalises with the batch's mean and variance and
  adds to `tf.GraphKeys.UPDATE_OPS` the updates
  `moving -= (moving - batch_value) * (1 - decay)` (`mnist.training()`
  groups them into the train op); in evaluation it normalises with the
  moving statistics and adds nothing to any collection.
  """

  _DEFAULT_NAME = 'batch_norm'
  _HAS_VARIABLES = True

  def __init__(self, decay=0.99, epsilon=1e-3, name=None):
    """Makes the layer; variables are made by its first call.

    Args:
      decay: python float in [0, 1), the moving statistics' decay per
        training step.
      epsilon: python float > 0 added to the variance.
      name: the variable scope; default 'batch_norm'.

    Raises:
      ConfigError: `decay` or `epsilon` is out of range.
    """
    super().__init__(name)
    if not 0.0 <= decay < 1.0:
      raise errors.ConfigError(
        f'{self._label()}: decay must be in [0, 1), got {decay}.'
      )
    if not epsilon > 0.0:
      raise errors.ConfigError(
        f'{self._label()}: epsilon must be > 0, got {epsilon}.'
      )
    self._decay = float(decay)
    self._epsilon = float(epsilon)

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, min_rank=2, sized=True)
    channels = int(inputs.shape[-1])

    def variable(name, initializer, trainable=True):
      return tf.get_variable(
        name,
        [channels],
        dtype=inputs.dtype,
        initializer=initializer,
        trainable=trainable,
      )

    beta = variable('beta', tf.zeros_initializer())
    gamma = variable('gamma', tf.ones_initializer())
    moving_mean = variable('moving_mean', tf.zeros_initializer(), False)
    moving_variance = variable('moving_variance', tf.ones_initializer(), False)
    if is_training:
      axes = list(range(inputs.shape.ndims - 1))
      mean, variance = tf.nn.moments(inputs, axes)
      for moving, value in ((moving_mean, mean), (moving_variance, variance)):
        update = tf.assign_sub(moving, (moving - value) * (1.0 - self._decay))
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, update)
    else:
      mean, variance = moving_mean, moving_variance
    return tf.nn.batch_normalization(
      inputs, mean, variance, beta, gamma, self._epsilon
    )


class Sequential(Layer):
  """Layers applied one after the other: a model.

  `model(images, is_training)` calls each layer on the previous one's
  output with the same `is_training`. Without a name the layers' scopes
  sit directly in the caller's variable scope (`hidden1/weights`); with
  one, under it (`name/hidden1/weights`). Unnamed layers get their class's
  default name, made unique in the model: `dense`, `dense_1`, ...
  """

  _DEFAULT_NAME = None

  def __init__(self, layers, name=None):
    """Makes the model from layer objects (called in this order).

    Args:
      layers: non-empty sequence of `Layer` objects.
      name: optional variable scope around all layers.

    Raises:
      ConfigError: `layers` is empty or holds something else than a
        `Layer`, or two layers with variables have the same name.
    """
    super().__init__(name)
    self._layers = tuple(layers)
    if not self._layers:
      raise errors.ConfigError(f'{self._label()}: layers must not be empty.')
    for layer in self._layers:
      layer_base.optional_layer(self._label(), layer)
    _name_layers(self._label(), self._layers)

  @property
  def layers(self):
    """The tuple of layers, in calling order."""
    return self._layers

  def __repr__(self):
    inner = ', '.join(repr(layer) for layer in self._layers)
    return f'Sequential([{inner}], name={self._name!r})'

  def _scope(self):
    if self._name is None:
      return contextlib.nullcontext()
    return tf.variable_scope(self._name)

  def _owns_variables(self):
    return any(layer._owns_variables() for layer in self._layers)

  def _existing_variables(self, scope_name):
    inner = layer_base.join_scope(scope_name, self._name)
    found = []
    for layer in self._layers:
      found.extend(layer._existing_variables(inner))
    return found

  def _label(self):
    return 'Sequential' if self._name is None else super()._label()

  def _build(self, inputs, is_training):
    outputs = inputs
    for layer in self._layers:
      outputs = layer(outputs, is_training)
    return outputs


def _name_layers(label, layers):
  """Gives unnamed layers unique default names; rejects clashing names.

  The layers of an unnamed `Sequential` inside sit in the same scope, so
  their names count too.
  """
  taken, with_variables = set(), set()
  for layer in _fixed_scope_names(layers):
    if layer._owns_variables():
      if layer._name in with_variables:
        raise errors.ConfigError(
          f'{label}: two layers with variables are named {layer._name!r}; '
          'give each a different name (or share one object under reuse).'
        )
      with_variables.add(layer._name)
    taken.add(layer._name)
  for layer in layers:
    if layer._named or layer._name is None:
      continue
    base, index = layer._DEFAULT_NAME, 0
    candidate = base
    while candidate in taken:
      index += 1
      candidate = f'{base}_{index}'
    layer._name = candidate
    # Fixed from now on: another model holding the layer must not rename it.
    layer._named = True
    taken.add(candidate)


def _fixed_scope_names(layers):
  """Yields the named layers, looking inside unnamed `Sequential`s."""
  for layer in layers:
    if layer._name is None:
      yield from _fixed_scope_names(layer.layers)
    elif layer._named:
      yield layer
