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
import re

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors

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

# TF's rule for scope names, without '/' so that a name is one scope level.
_NAME_PATTERN = re.compile(r'^[A-Za-z0-9.][A-Za-z0-9_.\-]*$')
_PADDINGS = ('SAME', 'VALID')
# How many clashing variable names an error message lists.
_NAMES_SHOWN = 3


def fan_in_truncated_normal(gain=1.0):
  """An initializer: truncated normal with stddev `sqrt(gain / fan_in)`.

  `fan_in` is the product of all dimensions of the variable's shape but the
  last: the inputs of a `Dense` weight `[fan_in, units]`, or `kh * kw *
  channels` of a `Conv2D` kernel. gain 1 is the tutorial MLP's
  `1 / sqrt(fan_in)`; gain 2 (He) keeps the scale of activations through a
  ReLU, as in the deep-MNIST conv net.

  Args:
    gain: python float > 0.

  Returns:
    an initializer for `tf.get_variable`.

  Raises:
    ConfigError: `gain` is not > 0.
  """
  if not gain > 0:
    raise errors.ConfigError(
      f'fan_in_truncated_normal: gain must be > 0, got {gain}.'
    )

  def _initializer(shape, dtype=tf.float32, partition_info=None):
    del partition_info  # Variables here are never partitioned.
    fan_in = math.prod(shape[:-1])
    stddev = math.sqrt(gain / fan_in)
    return tf.truncated_normal(shape, stddev=stddev, dtype=dtype)

  return _initializer


class Layer:
  """Base class: scope, reuse checks and variable bookkeeping.

  A subclass sets `_DEFAULT_NAME`, sets `_HAS_VARIABLES` when it makes
  variables, and implements `_build(inputs, is_training) -> outputs`, which
  runs inside the layer's variable scope and makes its variables with
  `tf.get_variable` (weight penalties through `_add_penalty`).
  """

  _DEFAULT_NAME = 'layer'
  _HAS_VARIABLES = False
  # Added to the message about inputs of the wrong rank.
  _RANK_HINT = ''

  def __init__(self, name=None):
    if name is not None:
      _check_name(type(self).__name__, name)
    self._name = self._DEFAULT_NAME if name is None else name
    self._named = name is not None
    self._graph = None
    self._variables = ()
    self._adds_penalties = False

  @property
  def name(self):
    """The layer's variable scope name (None: a `Sequential` with none)."""
    return self._name

  @property
  def variables(self):
    """Tuple of the variables made by the layer's first call.

    Those of the latest graph the layer made variables in; empty before any
    call (and always for layers without variables). A copy made in another
    variable scope of the same graph is not listed.
    """
    return self._variables

  @property
  def trainable_variables(self):
    """The `variables` that are trainable (no batch-norm moving stats)."""
    return tuple(v for v in self._variables if v.trainable)

  def __call__(self, inputs, is_training=False):
    """Builds the layer on `inputs`.

    Args:
      inputs: a float tensor (or array) of the shape the layer expects.
      is_training: python bool; True builds the training form (dropout
        active, batch norm on batch statistics with moving-statistics
        updates in `tf.GraphKeys.UPDATE_OPS`), False the evaluation form.

    Returns:
      the output tensor.

    Raises:
      ConfigError: eager execution is on; `is_training` is not a python
        bool; the inputs have the wrong dtype or shape; the layer's
        variables already exist and the current variable scope does not
        reuse them; or the scope reuses variables that do not exist.
    """
    self._check_call(is_training)
    inputs = tf.convert_to_tensor(inputs)
    scope = tf.get_variable_scope()
    existing = self._existing_variables(scope.name)
    self._check_reuse(scope, existing)
    creating = self._owns_variables() and not existing
    # A tower built without reuse adds its penalties: the first call, or
    # a step inside an in-graph loop (whose getter returns the variables).
    self._adds_penalties = creating or not scope.reuse
    try:
      with self._scope():
        outputs = self._build(inputs, is_training)
    finally:
      self._adds_penalties = False
    if creating:
      self._record(scope.name)
    return outputs

  def __repr__(self):
    return f'{type(self).__name__}(name={self._name!r})'

  def _build(self, inputs, is_training):
    raise NotImplementedError(f'{type(self).__name__} must define _build().')

  def _scope(self):
    return tf.variable_scope(self._name)

  def _owns_variables(self):
    return self._HAS_VARIABLES

  def _existing_variables(self, scope_name):
    """Variables of the default graph this layer would make in scope_name."""
    if not self._owns_variables():
      return []
    prefix = _join(scope_name, self._name) + '/'
    return [v for v in _graph_variables() if v.op.name.startswith(prefix)]

  def _record(self, scope_name):
    graph = tf.get_default_graph()
    # The first call in a graph made the variables; later copies don't count.
    if graph is not self._graph:
      self._graph = graph
      self._variables = tuple(self._existing_variables(scope_name))

  def _add_penalty(self, weights, regularizer):
    """Adds `regularizer(weights)` to 'losses' unless this call reuses them."""
    if regularizer is not None and self._adds_penalties:
      tf.add_to_collection('losses', regularizer(weights))

  def _check_call(self, is_training):
    if tf.executing_eagerly():
      raise errors.ConfigError(
        f'{self._label()}: graphnet layers build graphs; call them inside '
        '`with tf.Graph().as_default():` or after '
        'tf.compat.v1.disable_eager_execution().'
      )
    if not isinstance(is_training, (bool, np.bool_)):
      raise errors.ConfigError(
        f'{self._label()}: is_training must be a python bool (build one '
        f'tower per mode), got {is_training!r}.'
      )

  def _check_reuse(self, scope, existing):
    # A custom getter (the in-graph loop's, the moving averages') decides
    # itself what to return.
    if existing and not scope.reuse and scope.custom_getter is None:
      names = ', '.join(v.op.name for v in existing[:_NAMES_SHOWN])
      raise errors.ConfigError(
        f'{self._label()}: variables {names} already exist in this graph '
        f'(made by an earlier call, or by another layer of the same name), '
        f'and variable scope {scope.name!r} does not reuse them. To share '
        'them (e.g. an evaluation tower), call it inside `with '
        'tf.variable_scope(tf.get_variable_scope(), reuse=True):`; for a '
        'copy with its own variables, call it inside a new '
        "`tf.variable_scope('copy')` or build a new layer object with "
        'another name.'
      )
    if scope.reuse is True and self._owns_variables() and not existing:
      where = _join(scope.name, self._name) or '(root)'
      raise errors.ConfigError(
        f'{self._label()}: variable scope {scope.name!r} has reuse=True but '
        f'there are no variables under {where!r} to reuse; call the layer '
        'once without reuse first to create them.'
      )

  def _label(self):
    return f'{type(self).__name__} {self._name!r}'

  def _float_input(self, inputs, rank=None, min_rank=None, sized=False):
    """Checks `inputs`: floating point, rank; last dimension if `sized`."""
    if not inputs.dtype.is_floating:
      raise errors.ConfigError(
        f'{self._label()}: expected floating-point inputs, got '
        f'{inputs.dtype.name}; cast them first, e.g. '
        'tf.cast(images, tf.float32).'
      )
    ndims = inputs.shape.ndims
    if (rank is not None and ndims != rank) or (
      min_rank is not None and (ndims is None or ndims < min_rank)
    ):
      wanted = f'rank {rank}' if rank is not None else f'rank >= {min_rank}'
      raise errors.ConfigError(
        f'{self._label()}: expected inputs of {wanted}, got shape '
        f'{inputs.shape}.{self._RANK_HINT}'
      )
    if sized and inputs.shape[-1] is None:
      raise errors.ConfigError(
        f'{self._label()}: the last dimension of the inputs must be known '
        f'to size the variables, got shape {inputs.shape}.'
      )
    return inputs


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
    self._activation = _optional_callable(label, 'activation', activation)
    self._regularizer = _optional_callable(label, 'regularizer', regularizer)
    self._weights_initializer = weights_initializer or fan_in_truncated_normal()
    self._bias_initializer = bias_initializer or tf.zeros_initializer()
    self._normalizer = _optional_layer(label, normalizer)
    # A normalizer's beta does the biases' job.
    self._use_bias = normalizer is None if use_bias is None else bool(use_bias)

  def _weights(self, shape, dtype):
    weights = tf.get_variable(
      'weights', shape, dtype=dtype, initializer=self._weights_initializer
    )
    self._add_penalty(weights, self._regularizer)
    return weights

  def _finish(self, outputs, is_training):
    if self._use_bias:
      biases = tf.get_variable(
        'biases',
        [outputs.shape[-1]],
        dtype=outputs.dtype,
        initializer=self._bias_initializer,
      )
      outputs = tf.nn.bias_add(outputs, biases)
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
    self._units = _positive_int(self._label(), 'units', units)

  @property
  def units(self):
    """The output width."""
    return self._units

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, rank=2, sized=True)
    weights = self._weights([int(inputs.shape[-1]), self._units], inputs.dtype)
    outputs = tf.matmul(inputs, weights)  # [batch, units]
    return self._finish(outputs, is_training)


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
    self._filters = _positive_int(label, 'filters', filters)
    self._kernel_size = _pair(label, 'kernel_size', kernel_size)
    self._strides = _pair(label, 'strides', strides)
    self._padding = _padding(label, padding)

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
    self._pool_size = _pair(label, 'pool_size', pool_size)
    self._strides = (
      self._pool_size if strides is None else _pair(label, 'strides', strides)
    )
    self._padding = _padding(label, padding)

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
      _positive_int(self._label(), 'target_shape', d) for d in target_shape
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
      _optional_layer(self._label(), layer)
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
    inner = _join(scope_name, self._name)
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


def _join(scope_name, name):
  if not name:
    return scope_name
  return f'{scope_name}/{name}' if scope_name else name


def _graph_variables():
  graph = tf.get_default_graph()
  return graph.get_collection(
    tf.GraphKeys.GLOBAL_VARIABLES
  ) + graph.get_collection(tf.GraphKeys.LOCAL_VARIABLES)


def _check_name(class_name, name):
  if not isinstance(name, str) or not _NAME_PATTERN.match(name):
    raise errors.ConfigError(
      f'{class_name}: name must be a variable scope name (letters, digits, '
      f"'.', '_', '-'; no '/'), got {name!r}."
    )


def _positive_int(label, what, value):
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise errors.ConfigError(
      f'{label}: {what} must be a positive int, got {value!r}.'
    )
  if value <= 0:
    raise errors.ConfigError(f'{label}: {what} must be > 0, got {value}.')
  return int(value)


def _pair(label, what, value):
  """An int or a pair of ints -> a (height, width) tuple of positive ints."""
  if isinstance(value, (list, tuple)):
    if len(value) != 2:
      raise errors.ConfigError(
        f'{label}: {what} must be an int or (height, width), got {value!r}.'
      )
    return tuple(_positive_int(label, what, v) for v in value)
  size = _positive_int(label, what, value)
  return size, size


def _padding(label, padding):
  if not isinstance(padding, str) or padding.upper() not in _PADDINGS:
    raise errors.ConfigError(
      f'{label}: padding must be one of {_PADDINGS}, got {padding!r}.'
    )
  return padding.upper()


def _optional_callable(label, what, value):
  if value is not None and not callable(value):
    raise errors.ConfigError(
      f'{label}: {what} must be a function or None, got {value!r}.'
    )
  return value


def _optional_layer(label, value):
  if value is not None and not isinstance(value, Layer):
    raise errors.ConfigError(
      f'{label}: expected a graphnet.layers.Layer (Dense, Conv2D, ...), got '
      f'{value!r}.'
    )
  return value
