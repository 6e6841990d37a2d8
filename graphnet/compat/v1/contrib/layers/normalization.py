"""`tf.contrib.layers.batch_norm` of TF 1.15, without Keras.

Defaults as TF 1.15's: `decay=0.999`, `center=True` (a 'beta'),
`scale=False` (no 'gamma'), `epsilon=0.001`, no activation, scope
'BatchNorm'. Variables (model variables): 'beta', 'gamma' if `scale`,
'moving_mean' (zeros) and 'moving_variance' (ones), both not trainable.

In training (`is_training` True or a tensor), outputs use the batch's
moments and two update ops move the moving averages:
`moving -= (moving - batch_value) * (1 - decay)`. They go to
`updates_collections` (default `tf.GraphKeys.UPDATE_OPS`, to be run with
the train op), or run with the outputs when it is None. Rank-2 and rank-4
inputs use the fused kernel, whose batch variance for the update has
Bessel's correction (n / (n - 1)), as TF 1.15's; other ranks (or
`fused=False`) use `tf.nn.moments`, without it, as TF 1.15's.

Example:
    net = conv2d(x, 32, 3, normalizer_fn=batch_norm,
                 normalizer_params={'is_training': training})
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.contrib import framework
from graphnet.compat.v1.contrib.layers import _layer_helpers as _helpers
from graphnet.compat.v1.contrib.layers import utils

__all__ = ['batch_norm']


def _moving_average(variable, value, decay):
  """`variable -= (variable - value) * (1 - decay)`; returns the assign."""
  with tf.name_scope(None, 'AssignMovingAvg', [variable, value]) as scope:
    decay = tf.convert_to_tensor(1.0 - decay, name='decay')
    if decay.dtype != variable.dtype.base_dtype:
      decay = tf.cast(decay, variable.dtype.base_dtype)
    delta = (variable - tf.cast(value, variable.dtype.base_dtype)) * decay
    return tf.assign_sub(variable, delta, name=scope)


@framework.add_arg_scope
@_signatures.takes(_helpers.SCOPED)
def batch_norm(
  inputs,
  decay=0.999,
  center=True,
  scale=False,
  epsilon=0.001,
  activation_fn=None,
  param_initializers=None,
  param_regularizers=None,
  updates_collections=tf.GraphKeys.UPDATE_OPS,
  is_training=True,
  *,
  batch_weights=None,
  fused=None,
  data_format=_helpers.NHWC,
  zero_debias_moving_mean=False,
  scope=None,
  renorm=False,
  renorm_clipping=None,
  renorm_decay=0.99,
  adjustment=None,
  **scoped,
):
  """Batch normalization (Ioffe and Szegedy, 2015) over all but channels.

  Args:
    inputs: a float tensor of rank >= 2, channels last (or second with
      `data_format='NCHW'`), the channel count known.
    decay: the moving averages' decay.
    center: whether to add 'beta'.
    scale: whether to multiply by 'gamma'.
    epsilon: added to the variance.
    activation_fn: applied to the output (default none).
    param_initializers: a dict by 'beta', 'gamma', 'moving_mean',
      'moving_variance'.
    param_regularizers: a dict by 'beta', 'gamma'.
    updates_collections: where the two update ops go; None runs them with
      the outputs.
    is_training: a bool or bool tensor: batch moments and updates, or the
      moving averages.
    batch_weights: must be None.
    fused: None or True: the fused kernel for rank 2 and 4.
    data_format: 'NHWC' or 'NCHW'.
    zero_debias_moving_mean: must be False.
    scope: the variable scope (default 'BatchNorm', made unique).
    renorm: must be False.
    renorm_clipping: ignored (renorm only).
    renorm_decay: ignored (renorm only).
    adjustment: must be None.
    **scoped: TF1's arguments after `is_training` (`_helpers.SCOPED`):
      reuse (True to share the variables of `scope`),
      variables_collections (more collections for the variables),
      outputs_collections (collections for the output) and trainable
      (whether beta and gamma are trainable).

  Returns:
    a tensor shaped like `inputs`.

  Raises:
    NotImplementedError: `batch_weights`, `renorm`, `adjustment` or
      `zero_debias_moving_mean`, which graphnet does not provide.
    ValueError: bad `data_format`, unknown rank or channel count.
  """
  for name, value, default in (
    ('batch_weights', batch_weights, None),
    ('renorm', renorm, False),
    ('adjustment', adjustment, None),
    ('zero_debias_moving_mean', zero_debias_moving_mean, False),
  ):
    if value is not default and value != default:
      raise NotImplementedError(
        f'batch_norm: {name}={value!r} is not provided by graphnet; only '
        f'the default ({default!r}) is.'
      )
  del renorm_clipping, renorm_decay
  if data_format not in (_helpers.NHWC, _helpers.NCHW):
    raise ValueError(
      f'batch_norm: data_format has to be NHWC or NCHW, got {data_format!r}.'
    )
  with tf.variable_scope(
    scope, 'BatchNorm', [inputs], reuse=scoped['reuse']
  ) as sc:
    inputs = tf.convert_to_tensor(inputs)
    rank = inputs.shape.ndims
    if rank is None or rank < 2:
      raise ValueError(
        f'batch_norm: inputs {inputs.name} must have a known rank >= 2, got '
        f'shape {inputs.shape}.'
      )
    axis = 1 if data_format == _helpers.NCHW else rank - 1
    channels = tf.dimension_value(inputs.shape[axis])
    if channels is None:
      raise ValueError(
        f'batch_norm: the channel dimension of {inputs.name} must be known, '
        f'got shape {inputs.shape}.'
      )
    initializers = {
      'beta': tf.zeros_initializer(),
      'gamma': tf.ones_initializer(),
      'moving_mean': tf.zeros_initializer(),
      'moving_variance': tf.ones_initializer(),
    }
    initializers.update(param_initializers or {})
    regularizers = param_regularizers or {}

    def variable(name, regularizer, trainable):
      return framework.model_variable(
        name,
        shape=[channels],
        dtype=tf.float32,
        initializer=initializers[name],
        regularizer=regularizer,
        collections=utils.get_variable_collections(
          scoped['variables_collections'], name
        ),
        trainable=trainable,
      )

    # beta, gamma (or None), moving_mean, moving_variance by name.
    params = {'beta': None, 'gamma': None}
    wanted = [name for name, on in (('beta', center), ('gamma', scale)) if on]
    use_fused = (fused is None or fused) and rank in (2, 4)
    # TF 1.15 ran the other UPDATE_OPS cases through tf.layers'
    # BatchNormalization, which makes gamma before beta: the same order
    # keeps the same variable list.
    contrib_fused = use_fused and (
      rank == 2 or updates_collections is not tf.GraphKeys.UPDATE_OPS
    )
    if not contrib_fused and updates_collections is tf.GraphKeys.UPDATE_OPS:
      wanted.reverse()
    for name in wanted:
      params[name] = variable(name, regularizers.get(name), scoped['trainable'])
    # Moving statistics are never partitioned and never trained.
    with tf.variable_scope(tf.get_variable_scope()) as local_scope:
      local_scope.set_partitioner(None)
      for name in ('moving_mean', 'moving_variance'):
        params[name] = variable(name, None, False)
    if use_fused:
      outputs, mean, variance = _fused(
        inputs, params, epsilon, is_training, data_format
      )
    else:
      outputs, mean, variance = _moments(
        inputs, params, epsilon, is_training, axis
      )
    training_value = utils.constant_value(is_training)
    if training_value is None or training_value:
      outputs = _add_updates(
        outputs,
        (mean, variance),
        params,
        decay,
        is_training,
        updates_collections,
      )
    if activation_fn is not None:
      outputs = activation_fn(outputs)
    return utils.collect_named_outputs(
      scoped['outputs_collections'], sc.name, outputs
    )


def _fused(inputs, params, epsilon, is_training, data_format):
  """Fused batch norm; a rank-2 input goes through as [N, 1, 1, C]."""
  beta, gamma = params['beta'], params['gamma']
  moving_mean, moving_variance = (
    params['moving_mean'],
    params['moving_variance'],
  )
  original = inputs
  channels = moving_mean.shape[0]
  if inputs.shape.ndims == 2:
    new_shape = (
      [-1, channels, 1, 1]
      if data_format == _helpers.NCHW
      else [-1, 1, 1, channels]
    )
    inputs = tf.reshape(inputs, new_shape)
  if beta is None:
    beta = tf.constant(0.0, shape=[channels])
  if gamma is None:
    gamma = tf.constant(1.0, shape=[channels])

  def training():
    return tf.nn.fused_batch_norm(
      inputs, gamma, beta, epsilon=epsilon, data_format=data_format
    )

  def inference():
    return tf.nn.fused_batch_norm(
      inputs,
      gamma,
      beta,
      mean=moving_mean,
      variance=moving_variance,
      epsilon=epsilon,
      is_training=False,
      data_format=data_format,
    )

  outputs, mean, variance = utils.smart_cond(is_training, training, inference)
  outputs.set_shape(inputs.shape)
  if original.shape.ndims == 2:
    outputs = tf.reshape(outputs, tf.shape(original))
    outputs.set_shape(original.shape)
  return outputs, mean, variance


def _moments(inputs, params, epsilon, is_training, axis):
  """Batch norm from `tf.nn.moments` (biased variance), any rank."""
  beta, gamma = params['beta'], params['gamma']
  moving_mean, moving_variance = (
    params['moving_mean'],
    params['moving_variance'],
  )
  rank = inputs.shape.ndims
  reduction_axes = [i for i in range(rank) if i != axis]
  broadcast = [1] * rank
  broadcast[axis] = moving_mean.shape[0]

  def shaped(value):
    # Channels-last values broadcast as they are; others need reshaping.
    if value is None or axis == rank - 1:
      return value
    return tf.reshape(value, broadcast)

  def training():
    mean, variance = tf.nn.moments(inputs, reduction_axes, keep_dims=False)
    return mean, variance

  def inference():
    return tf.identity(moving_mean), tf.identity(moving_variance)

  mean, variance = utils.smart_cond(is_training, training, inference)
  outputs = tf.nn.batch_normalization(
    inputs,
    shaped(mean),
    shaped(variance),
    shaped(beta),
    shaped(gamma),
    epsilon,
  )
  outputs.set_shape(inputs.shape)
  return outputs, mean, variance


def _add_updates(outputs, batch, params, decay, is_training, collections):
  """Adds the moving-average updates to `collections` or to the outputs.

  `batch` is the batch's (mean, variance); `params` holds the moving
  statistics by name.
  """
  mean, variance = batch
  moving_mean, moving_variance = (
    params['moving_mean'],
    params['moving_variance'],
  )

  def updates():
    return (
      _moving_average(moving_mean, mean, decay),
      _moving_average(moving_variance, variance, decay),
    )

  if collections is None:

    def forced():
      with tf.control_dependencies(updates()):
        return tf.identity(outputs)

    return utils.smart_cond(is_training, forced, lambda: outputs)
  update_mean, update_variance = utils.smart_cond(
    is_training, updates, lambda: (moving_mean, moving_variance)
  )
  tf.add_to_collections(collections, update_mean)
  tf.add_to_collections(collections, update_variance)
  return outputs
