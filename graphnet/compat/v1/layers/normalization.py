"""TF1's `tf.layers.BatchNormalization` and `tf.layers.batch_normalization`.

Variables, in its scope, in this order: `gamma` (ones; without `scale`
none), `beta` (zeros; without `center` none), trainable; `moving_mean`
(zeros) and `moving_variance` (ones), not trainable. Shape `[channels]`.

As TF1 (momentum 0.99, epsilon 1e-3, `training=False` by default):

- `training` False: normalises with the moving statistics; no updates.
- `training` True (or a bool tensor): normalises with the batch's mean and
  variance and adds to `tf.GraphKeys.UPDATE_OPS` the updates
  `moving -= (moving - batch_value) * (1 - momentum)` (with a tensor, they
  leave the moving statistics unchanged when it is False). Run them, e.g.
  `with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS))`
  around the train op. A layer made with `trainable=False` adds none.
- 4-D inputs over axis 3 (or 1) use TF's fused kernel (`fused=None`
  default, as TF1), whose batch variance for the moving average is the
  unbiased one (n / (n - 1) times the biased); other ranks use `tf.nn.
  moments` (biased), exactly as TF1 did.

Example:
    net = tf.layers.conv2d(images, 32, 3)
    net = tf.layers.batch_normalization(net, training=is_training)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
      train_op = optimizer.minimize(loss)
"""

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1.layers import _arguments
from graphnet.compat.v1.layers import _functional
from graphnet.compat.v1.layers import base

__all__ = ['BatchNormalization', 'batch_normalization']


class BatchNormalization(base.Layer):
  """Batch normalisation over all axes but `axis` (TF1's semantics)."""

  def __init__(
    self,
    axis=-1,
    momentum=0.99,
    epsilon=1e-3,
    center=True,
    scale=True,
    beta_initializer=_arguments.ZEROS,
    gamma_initializer=_arguments.ONES,
    moving_mean_initializer=_arguments.ZEROS,
    moving_variance_initializer=_arguments.ONES,
    beta_regularizer=None,
    gamma_regularizer=None,
    beta_constraint=None,
    gamma_constraint=None,
    renorm=False,
    renorm_clipping=None,
    renorm_momentum=0.99,
    fused=None,
    trainable=True,
    virtual_batch_size=None,
    adjustment=None,
    name=None,
    **kwargs,
  ):
    super().__init__(trainable=trainable, name=name, **kwargs)
    del renorm_clipping, renorm_momentum  # Only meaningful with renorm.
    for argument, value in (
      ('renorm', renorm),
      ('virtual_batch_size', virtual_batch_size),
      ('adjustment', adjustment),
    ):
      if value:
        raise errors.ConfigError(
          f'layer {self.name!r}: graphnet.compat.v1 batch normalization does '
          f'not provide {argument} (got {value!r}); leave it unset.'
        )
    if isinstance(axis, (list, tuple)):
      self.axis = list(axis)
    elif isinstance(axis, int):
      self.axis = axis
    else:
      raise errors.ConfigError(
        f'layer {self.name!r}: axis must be an int or a list of ints, got '
        f'{axis!r}.'
      )
    self.momentum = momentum
    self.epsilon = epsilon
    self.center = center
    self.scale = scale
    self.beta_initializer = beta_initializer
    self.gamma_initializer = gamma_initializer
    self.moving_mean_initializer = moving_mean_initializer
    self.moving_variance_initializer = moving_variance_initializer
    self.beta_regularizer = beta_regularizer
    self.gamma_regularizer = gamma_regularizer
    self.beta_constraint = beta_constraint
    self.gamma_constraint = gamma_constraint
    # TF1: None means "fused where the inputs allow it" (decided in build).
    self.fused = True if fused is None else fused

  @property
  def _param_dtype(self):
    if self.dtype in ('float16', 'bfloat16'):
      return tf.float32
    return tf.as_dtype(self.dtype or tf.float32)

  def build(self, input_shape):
    input_shape = tf.TensorShape(input_shape)
    ndims = input_shape.ndims
    if not ndims:
      raise errors.ConfigError(
        f'layer {self.name!r}: inputs need a known rank, got shape '
        f'{input_shape}.'
      )
    axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
    axes = [a + ndims if a < 0 else a for a in axes]
    if any(not 0 <= a < ndims for a in axes) or len(set(axes)) != len(axes):
      raise errors.ConfigError(
        f'layer {self.name!r}: axis {self.axis!r} is invalid for inputs of '
        f'rank {ndims}.'
      )
    self.axis = axes
    self.fused = bool(self.fused) and ndims == 4 and axes in ([1], [3])
    sizes = {a: tf.dimension_value(input_shape[a]) for a in axes}
    if None in sizes.values():
      raise errors.ConfigError(
        f'layer {self.name!r}: the normalised axis {axes} of the inputs must '
        f'be known, got shape {input_shape}.'
      )
    self.input_spec = base.InputSpec(ndim=ndims, axes=sizes)
    if len(axes) == 1:
      param_shape = [sizes[axes[0]]]
    else:
      param_shape = [sizes.get(i, 1) for i in range(ndims)]

    def weight(name, initializer, trainable, regularizer=None, constraint=None):
      extra = {}
      if not trainable:
        extra = {
          'synchronization': tf.VariableSynchronization.ON_READ,
          'aggregation': tf.VariableAggregation.MEAN,
        }
      return self.add_weight(
        name,
        param_shape,
        dtype=self._param_dtype,
        initializer=initializer,
        regularizer=regularizer,
        constraint=constraint,
        trainable=trainable,
        **extra,
      )

    self.gamma = self.beta = None
    if self.scale:
      self.gamma = weight(
        'gamma',
        self.gamma_initializer,
        True,
        self.gamma_regularizer,
        self.gamma_constraint,
      )
    if self.center:
      self.beta = weight(
        'beta',
        self.beta_initializer,
        True,
        self.beta_regularizer,
        self.beta_constraint,
      )
    self.moving_mean = weight(
      'moving_mean', self.moving_mean_initializer, False
    )
    self.moving_variance = weight(
      'moving_variance', self.moving_variance_initializer, False
    )
    self.built = True

  def call(self, inputs, training=False):
    if training is None:  # TF1 read Keras's learning phase: False here.
      training = False
    if self.fused:
      return self._fused(inputs, training)
    return self._unfused(inputs, training)

  def _fused(self, inputs, training):
    shape = self.moving_mean.shape
    gamma = self.gamma if self.scale else tf.ones(shape, self._param_dtype)
    beta = self.beta if self.center else tf.zeros(shape, self._param_dtype)
    data_format = 'NCHW' if self.axis == [1] else 'NHWC'

    def train():
      return tf.nn.fused_batch_norm(
        inputs, gamma, beta, epsilon=self.epsilon, data_format=data_format
      )

    def infer():
      return tf.nn.fused_batch_norm(
        inputs,
        gamma,
        beta,
        mean=self.moving_mean,
        variance=self.moving_variance,
        epsilon=self.epsilon,
        is_training=False,
        data_format=data_format,
      )

    outputs, mean, variance = _arguments.smart_cond(training, train, infer)
    known = _known(training)
    if known is False:
      return outputs
    if known is None:
      # Momentum 1 leaves the moving statistics as they are.
      momentum = _arguments.smart_cond(
        training,
        lambda: tf.constant(self.momentum),
        lambda: tf.constant(1.0),
      )
    else:
      momentum = tf.convert_to_tensor(self.momentum)
    self.add_update(_moving_average(self.moving_mean, mean, momentum))
    self.add_update(_moving_average(self.moving_variance, variance, momentum))
    return outputs

  def _unfused(self, inputs, training):
    ndims = inputs.shape.ndims
    reduction = [i for i in range(ndims) if i not in self.axis]
    broadcast_shape = [1] * ndims
    broadcast_shape[self.axis[0]] = tf.dimension_value(
      inputs.shape[self.axis[0]]
    )

    def broadcast(v):
      if (
        v is not None
        and v.shape.ndims != ndims
        and reduction != list(range(ndims - 1))
      ):
        return tf.reshape(v, broadcast_shape)
      return v

    scale, offset = broadcast(self.gamma), broadcast(self.beta)
    if _known(training) is False:
      mean, variance = self.moving_mean, self.moving_variance
    else:
      batch_mean, batch_variance = tf.nn.moments(
        tf.cast(inputs, self._param_dtype),
        reduction,
        keep_dims=len(self.axis) > 1,
      )
      mean = _arguments.smart_cond(
        training,
        lambda: batch_mean,
        lambda: tf.convert_to_tensor(self.moving_mean),
      )
      variance = _arguments.smart_cond(
        training,
        lambda: batch_variance,
        lambda: tf.convert_to_tensor(self.moving_variance),
      )
      for moving, value in (
        (self.moving_mean, mean),
        (self.moving_variance, variance),
      ):
        self.add_update(
          _arguments.smart_cond(
            training,
            lambda m=moving, v=value: _moving_average(m, v, self.momentum),
            lambda m=moving: m,
          )
        )
    mean = tf.cast(mean, inputs.dtype)
    variance = tf.cast(variance, inputs.dtype)
    if offset is not None:
      offset = tf.cast(offset, inputs.dtype)
    if scale is not None:
      scale = tf.cast(scale, inputs.dtype)
    outputs = tf.nn.batch_normalization(
      inputs,
      broadcast(mean),
      broadcast(variance),
      offset,
      scale,
      self.epsilon,
    )
    outputs.set_shape(inputs.shape)
    return outputs


def _known(training):
  """True/False when `training` is known while building, else None."""
  if isinstance(training, (tf.Tensor, tf.Variable)):
    value = (
      tf.get_static_value(training) if isinstance(training, tf.Tensor) else None
    )
    return None if value is None else bool(value)
  return bool(training)


def _moving_average(variable, value, momentum):
  """`variable -= (variable - value) * (1 - momentum)`, as TF1 named it."""
  with tf.name_scope(
    None, 'AssignMovingAvg', [variable, value, momentum]
  ) as scope:
    # TF 2 places the update with its variable (TF1 said so explicitly).
    decay = tf.convert_to_tensor(1.0 - momentum, name='decay')
    if decay.dtype != variable.dtype.base_dtype:
      decay = tf.cast(decay, variable.dtype.base_dtype)
    delta = (variable - tf.cast(value, variable.dtype)) * decay
    return tf.assign_sub(variable, delta, name=scope)


batch_normalization = _functional.functional(
  BatchNormalization,
  'batch_normalization',
  """TF1's `tf.layers.batch_normalization`; `name` as given (see module).

  Returns a tensor of the shape of `inputs`.
  """,
  # TF1's order: the call's `training` and `reuse` among the class's own.
  order=(
    'axis momentum epsilon center scale beta_initializer gamma_initializer '
    'moving_mean_initializer moving_variance_initializer beta_regularizer '
    'gamma_regularizer beta_constraint gamma_constraint training trainable '
    'name reuse renorm renorm_clipping renorm_momentum fused '
    'virtual_batch_size adjustment'
  ).split(),
  defaults={'training': False},
  call=['training'],
)
